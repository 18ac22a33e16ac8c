"""Find a dataset's official files on this machine, or download them once into the cache.

Each file is looked for, in this order:

1. the folder given as ``path=`` to ``load_data``;
2. ``$CNNLAB_DATA/<dataset>``;
3. the cache, ``~/.cache/cnnlab/<dataset>`` (``$XDG_CACHE_HOME/cnnlab/<dataset>`` if set);
4. system folders, e.g. ``/usr/share/datasets/fashion-mnist`` (Debian ``dataset-fashion-mnist``);
5. the official address (then mirrors), downloaded with a progress bar, checked against its
   SHA-256 and written atomically (temporary file + ``os.replace``) into the cache.
   ``CNNLAB_OFFLINE=1`` turns downloading off.

A file is accepted only if its SHA-256 is one of the known digests of that file; a copy with
another digest is skipped with a warning (the cache copy is then replaced by a fresh download).
When a file cannot be found, one ``DatasetNotFoundError`` lists every place looked at and how
to get the files.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.request
import warnings
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

__all__ = ["DataSource", "DatasetNotFoundError", "RemoteFile", "cache_dir", "fetch"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name, accepted SHA-256 digests and download addresses."""

    name: str
    sha256: tuple[str, ...]
    urls: tuple[str, ...]


@dataclass(frozen=True)
class DataSource:
    """A dataset's files, its folder name (cache and ``$CNNLAB_DATA``) and system folders."""

    name: str
    files: tuple[RemoteFile, ...]
    system_dirs: tuple[str, ...] = ()
    install_hint: str = ""


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's files are nowhere on this machine and could not be downloaded."""


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/cnnlab`` or ``~/.cache/cnnlab``: where downloads are kept."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "cnnlab"


def _offline() -> bool:
    return os.environ.get("CNNLAB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _places(source: DataSource, path: str | PathLike[str] | None) -> list[tuple[str, Path | None]]:
    """``(label, folder)`` in search order; ``folder`` is ``None`` when a place is not set."""
    places: list[tuple[str, Path | None]] = []
    if path is not None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            names = ", ".join(f.name for f in source.files)
            raise ValueError(
                f"path= must be a folder holding {names}; got {str(path)!r}, "
                f"which {'is not a folder' if folder.exists() else 'does not exist'}"
            )
        places.append(("path=", folder))
    env = os.environ.get("CNNLAB_DATA")
    places.append(("$CNNLAB_DATA", Path(env).expanduser() / source.name if env else None))
    places.append(("cache", cache_dir() / source.name))
    places.extend(("system folder", Path(d)) for d in source.system_dirs)
    return places


def _progress(name: str, done: int, total: int, start: float) -> None:
    """Keras-style bar on stderr: ``name  12.3/26.4 MB [=====>......] 46% 1.2s``."""
    width = 30
    frac = done / total if total else 0.0
    bar = "=" * int(width * frac)
    bar = (bar[:-1] + ">" if 0 < frac < 1 else bar).ljust(width, ".")
    size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
    elapsed = time.time() - start
    sys.stderr.write(f"\r{name}  {size} [{bar}] {100 * frac:3.0f}% {elapsed:.1f}s")
    sys.stderr.flush()


def _download(url: str, file: RemoteFile, folder: Path) -> Path:
    """Download ``url`` into ``folder/file.name`` atomically; raise if the SHA-256 differs."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".part", dir=folder)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "cnnlab"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0)
            digest, done, start, shown = hashlib.sha256(), 0, time.time(), -1
            sys.stderr.write(f"Downloading data from {url}\n")
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if not total or 100 * done // total != shown:
                    shown = 100 * done // total if total else shown
                    _progress(file.name, done, total, start)
            sys.stderr.write("\n")
            out.flush()
            os.fsync(out.fileno())
        if total and done != total:
            raise OSError(f"connection closed after {done} of {total} bytes")
        got = digest.hexdigest()
        if got not in file.sha256:
            raise ValueError(f"SHA-256 mismatch: got {got}, expected {file.sha256[0]}")
        final = folder / file.name
        os.replace(tmp, final)
        return final
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _not_found(
    source: DataSource,
    missing: list[RemoteFile],
    places: list[tuple[str, Path | None]],
    problems: list[str],
) -> DatasetNotFoundError:
    lines = [f"{source.name}: could not find {', '.join(f.name for f in missing)}.", "Looked in:"]
    for label, folder in places:
        lines.append(f"  {label:<14} {folder if folder is not None else '(not set)'}")
    lines += ["Problems:"] * bool(problems) + [f"  {p}" for p in problems]
    lines.append("To get the files, download")
    lines += [f"  {f.urls[0]}" for f in missing]
    lines.append(
        f"into {cache_dir() / source.name} (or into a folder passed as path= or set in "
        "$CNNLAB_DATA)"
        + (", or connect to the network and unset CNNLAB_OFFLINE." if _offline() else ".")
    )
    if source.install_hint:
        lines.append(source.install_hint)
    return DatasetNotFoundError("\n".join(lines))


def _find_local(
    file: RemoteFile, places: list[tuple[str, Path | None]], problems: list[str]
) -> Path | None:
    """The first copy of ``file`` in ``places`` whose SHA-256 is known; others are reported."""
    for _, folder in places:
        candidate = folder / file.name if folder is not None else None
        if candidate is None or not candidate.is_file():
            continue
        got = _sha256(candidate)
        if got in file.sha256:
            return candidate
        problem = f"skipped {candidate}: SHA-256 {got} is not the official {file.sha256[0]}"
        warnings.warn(problem, stacklevel=3)
        problems.append(problem)
    return None


def _download_any(file: RemoteFile, folder: Path, problems: list[str]) -> Path | None:
    """Try each address of ``file`` in turn; failures are reported in ``problems``."""
    for url in file.urls:
        try:
            return _download(url, file, folder)
        except (OSError, ValueError, http.client.HTTPException) as err:  # URLError: OSError
            problems.append(f"download {url}: {err}")
    return None


def fetch(source: DataSource, path: str | PathLike[str] | None = None) -> dict[str, Path]:
    """Paths of all of ``source``'s files, found locally or downloaded (see module doc).

    Raises ``ValueError`` if ``path`` is given but is not a folder, and
    ``DatasetNotFoundError`` if some file is nowhere and cannot be downloaded.
    """
    places = _places(source, path)
    problems: list[str] = []
    found = {f.name: _find_local(f, places, problems) for f in source.files}
    if None in found.values() and _offline():
        problems.append("download: disabled by CNNLAB_OFFLINE")
    elif None in found.values():
        for file in source.files:
            if found[file.name] is None:
                found[file.name] = _download_any(file, cache_dir() / source.name, problems)
    missing = [f for f in source.files if found[f.name] is None]
    if missing:
        raise _not_found(source, missing, places, problems)
    return {name: p for name, p in found.items() if p is not None}
