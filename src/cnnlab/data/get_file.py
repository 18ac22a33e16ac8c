"""``keras.utils.get_file``: a file from a URL, cached under ``~/.keras/datasets``.

The cache folder is ``$KERAS_HOME`` if set, else ``~/.keras`` (Keras's rule; ``cache_dir``
overrides both), plus ``cache_subdir``. A file already there is returned without any network
access (checked against ``file_hash`` when one is given); otherwise it is downloaded to a
temporary file and renamed into place. ``CNNLAB_OFFLINE=1`` turns downloading off; the error
then says where to put the file by hand.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

__all__ = ["get_file"]


def _hash(path: Path, algorithm: str) -> str:
    digest = hashlib.sha256() if algorithm in ("sha256", "auto") else hashlib.md5()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _algorithm(file_hash: str, hash_algorithm: str) -> str:
    if hash_algorithm == "auto":
        return "sha256" if len(file_hash) == 64 else "md5"
    return hash_algorithm


def _download(origin: str, target: Path) -> None:
    if os.environ.get("CNNLAB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no"):
        raise OSError("downloads are off (CNNLAB_OFFLINE is set)")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        request = urllib.request.Request(origin, headers={"User-Agent": "cnnlab"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=60) as response:
            while chunk := response.read(1 << 20):
                out.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _inside(root: Path, name: str) -> bool:
    return (root / name).resolve().is_relative_to(root.resolve())


MAX_EXTRACTED_BYTES = 64 << 30  # what one archive may unpack to
MAX_EXTRACT_RATIO = 200  # unpacked / archive size, for archives unpacking to over 1 MiB


def _check_sizes(archive: Path, into: Path, total: int) -> None:
    """Refuse a zip bomb before unpacking: ``total`` (the members' declared sizes, which zip
    and tar readers never exceed) must stay within the limits and the free space of ``into``."""
    size = max(archive.stat().st_size, 1)
    free = shutil.disk_usage(into).free
    if total > MAX_EXTRACTED_BYTES or (total > 1 << 20 and total > MAX_EXTRACT_RATIO * size):
        raise ValueError(f"get_file: archive {archive} would unpack to {total:,} bytes from "
                         f"{size:,} (limits: {MAX_EXTRACTED_BYTES:,} bytes, "
                         f"{MAX_EXTRACT_RATIO}x its size); not unpacked")
    if total > free:
        raise OSError(errno.ENOSPC, f"get_file: archive {archive} needs {total:,} bytes to "
                      f"unpack, {into} has {free:,} free; not unpacked")


def _extract(archive: Path, into: Path) -> None:
    """Unpack a zip or tar archive into ``into``; members that would land outside it (``..``,
    absolute paths, links, devices) and archives unpacking to more than the limits or the free
    space (zip bombs) are refused before anything is written."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            infos = z.infolist()
            bad = [i.filename for i in infos if not _inside(into, i.filename)]
            if bad:
                raise ValueError(f"get_file: archive {archive} has members outside the "
                                 f"target folder: {bad[:3]}")
            _check_sizes(archive, into, sum(i.file_size for i in infos))
            z.extractall(into)
        return
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            members = t.getmembers()
            bad = [m.name for m in members
                   if not _inside(into, m.name) or m.issym() or m.islnk() or m.isdev()]
            if bad:
                raise ValueError(f"get_file: archive {archive} has unsafe members (outside "
                                 f"the target folder, links or devices): {bad[:3]}")
            _check_sizes(archive, into, sum(m.size for m in members if m.isfile()))
            t.extractall(into, members=members, filter="data")
        return
    raise ValueError(f"get_file: {archive} is neither a zip nor a tar archive")


def get_file(fname: str | None = None, origin: str | None = None, untar: bool = False,
             md5_hash: str | None = None, file_hash: str | None = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: str = "auto",
             cache_dir: str | os.PathLike | None = None) -> str:
    """Path of ``fname`` in the Keras cache, downloading it from ``origin`` when missing.

    With ``untar=True`` (``fname`` without its ``.tar.gz``) or ``extract=True`` the archive is
    unpacked next to it; ``untar`` returns the unpacked folder, as Keras does.

    Example:
        >>> path = get_file("cat.jpg", origin="https://img-datasets.s3.amazonaws.com/cat.jpg")
    """
    if origin is None:
        raise ValueError('get_file: `origin` (the URL to download from) is required, e.g. '
                         'get_file("cat.jpg", origin="https://.../cat.jpg")')
    if not fname:
        fname = os.path.basename(origin.split("?")[0])
    root = Path(cache_dir or os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    folder = Path(cache_subdir) if os.path.isabs(cache_subdir) else root / cache_subdir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (f"{fname}.tar.gz" if untar else fname)
    wanted = file_hash or md5_hash
    algorithm = "md5" if md5_hash and not file_hash else hash_algorithm
    if target.exists() and wanted and _hash(target, _algorithm(wanted, algorithm)) != wanted:
        target.unlink()  # a stale or damaged copy: fetch again, as Keras does
    if not target.exists():
        try:
            _download(origin, target)
        except Exception as err:
            raise OSError(f"get_file: {fname!r} is not in the cache and could not be "
                          f"downloaded from {origin} ({err}); copy the file to {target} "
                          f"by hand") from err
        if wanted and _hash(target, _algorithm(wanted, algorithm)) != wanted:
            target.unlink()
            raise ValueError(f"get_file: the file downloaded from {origin} does not match "
                             f"file_hash {wanted}")
    if untar:
        unpacked = folder / fname
        if not unpacked.exists():
            _extract(target, folder)
        return str(unpacked)
    if extract:
        _extract(target, folder)
    return str(target)
