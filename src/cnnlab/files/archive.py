"""Reading members of an untrusted zip archive (a cnnlab model file, a Keras 3 ``.keras`` file,
a ``torch.save`` file) into memory, with limits checked before anything is decompressed.

An archive is never extracted to disk. :func:`check_archive` refuses, naming the file and the
member:

- member names that are absolute (``/etc/x``, ``C:\\x``, ``\\\\host\\x``) or climb out of the
  archive (``../x``), symlink members (Unix mode ``S_IFLNK`` in the external attributes),
  duplicate names (two members called ``config.json``: which one is read depends on the tool),
  encrypted members and more than :data:`MAX_MEMBERS` members;
- (for the members to be read) more than :data:`MAX_TOTAL_BYTES` declared uncompressed bytes in
  all, more than :data:`MAX_JSON_BYTES` for a ``.json`` member, and members above
  :data:`RATIO_FLOOR` bytes that expand more than :data:`MAX_RATIO` times (a zip bomb).

:func:`read_members` then reads each member with a bound of its declared size, so that a member
whose declared size lies cannot make it read more; any decompression or CRC error becomes a
``ValueError`` naming the file and the member.
"""

from __future__ import annotations

import lzma
import os
import stat
import struct
import zipfile
import zlib
from typing import Any

MAX_TOTAL_BYTES = 2 << 30  # uncompressed bytes read from one archive
MAX_JSON_BYTES = 64 << 20  # one JSON member
MAX_RATIO = 200  # uncompressed / compressed, checked for members above RATIO_FLOOR bytes
RATIO_FLOOR = 1 << 20
MAX_MEMBERS = 10_000  # cnnlab writes at most 5 members, Keras a few plus its assets
MAX_SAFETENSORS_HEADER = 16 << 20  # JSON header of a safetensors file (VGG16's: 3 kB)

# What reading a damaged member can raise: CRC (BadZipFile), deflate (zlib.error), bzip2
# (OSError), lzma, truncation (EOFError), an unknown compression method (NotImplementedError).
READ_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError,
               NotImplementedError, RuntimeError, struct.error, ValueError)


def unsafe_name(name: str) -> str | None:
    """Why a member name is unsafe to have in an archive (``None`` when it is fine)."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if ".." in parts:
        return "a path that climbs out of the archive ('..')"
    return None


def is_zip(path: Any) -> bool:
    """``zipfile.is_zipfile`` that never raises: a file whose end record is there but broken
    (e.g. claiming to span several disks, which ``is_zipfile`` lets escape as ``BadZipFile``)
    counts as a zip, so that :func:`open_archive` reports it."""
    try:
        return zipfile.is_zipfile(path)
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error):
        return True


def open_archive(path: Any, source: str) -> zipfile.ZipFile:
    """``zipfile.ZipFile(path)`` with a ``ValueError`` naming ``source`` when it is not one."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error,
            NotImplementedError) as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise ValueError(f"{source} is not a readable zip archive: {exc}") from None


def check_archive(archive: zipfile.ZipFile, source: str, names: tuple[str, ...] = ()) -> None:
    """Refuse an archive with unsafe members (module docstring); ``names`` are the members
    that will be read, whose declared sizes are checked."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ValueError(f"{source}: {len(infos)} members, more than {MAX_MEMBERS}; refused")
    seen: set[str] = set()
    for info in infos:
        why = unsafe_name(info.filename)
        if why is not None:
            raise ValueError(f"{source}: member {info.filename!r} is {why}; refused (cnnlab "
                             f"never extracts archives, and no model file holds such a name)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ValueError(f"{source}: member {info.filename!r} is a symbolic link; refused")
        if info.filename in seen:
            raise ValueError(f"{source}: member {info.filename!r} appears twice; refused (which "
                             f"copy a tool reads is not defined)")
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise ValueError(f"{source}: member {info.filename!r} is encrypted; refused")
    wanted = [info for info in infos if info.filename in names]
    total = sum(info.file_size for info in wanted)
    if total > MAX_TOTAL_BYTES:
        raise ValueError(f"{source}: its members declare {total} bytes uncompressed, more than "
                         f"the {MAX_TOTAL_BYTES} allowed; refused (possible zip bomb)")
    for info in wanted:
        name = info.filename
        if name.endswith(".json") and info.file_size > MAX_JSON_BYTES:
            raise ValueError(f"{source}: {name} declares {info.file_size} bytes, more than "
                             f"{MAX_JSON_BYTES}; refused")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(
                info.compress_size, 1):
            raise ValueError(f"{source}: {name} expands {info.file_size} / "
                             f"{info.compress_size} times, more than {MAX_RATIO}; refused "
                             f"(possible zip bomb)")


def read_members(path: str | os.PathLike, source: str,
                 names: tuple[str, ...]) -> dict[str, bytes]:
    """The members of ``names`` that the archive holds, after :func:`check_archive`."""
    with open_archive(path, source) as archive:
        return read_checked(archive, source, names)


def read_checked(archive: zipfile.ZipFile, source: str,
                 names: tuple[str, ...]) -> dict[str, bytes]:
    """:func:`read_members` on an open archive."""
    check_archive(archive, source, names)
    members = {}
    for info in archive.infolist():
        if info.filename not in names:
            continue
        try:
            with archive.open(info) as member:
                data = member.read(info.file_size + 1)
        except READ_ERRORS as exc:
            raise ValueError(f"{source}: member {info.filename} cannot be read: "
                             f"{exc}") from None
        if len(data) != info.file_size:
            raise ValueError(f"{source}: member {info.filename} does not hold its declared "
                             f"size ({len(data)} bytes, declared {info.file_size})")
        members[info.filename] = data
    return members


def check_archive_file(path: str | os.PathLike, source: str) -> None:
    """:func:`check_archive` on a zip file whose members another reader will read (all of
    them: ``torch.load`` reads every record it needs)."""
    with open_archive(path, source) as archive:
        check_archive(archive, source, tuple(archive.namelist()))


__all__ = ["MAX_JSON_BYTES", "MAX_MEMBERS", "MAX_RATIO", "MAX_SAFETENSORS_HEADER",
           "MAX_TOTAL_BYTES", "RATIO_FLOOR", "check_archive", "check_archive_file",
           "open_archive", "read_checked", "read_members", "unsafe_name"]
