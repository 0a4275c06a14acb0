"""A class's ``.zip``, unpacked one entry at a time: an unsafe entry costs that entry only.

Refused, each with its reason: absolute paths and drive letters, ``..`` (also written with
backslashes), symbolic links, encrypted entries, an entry whose compression ratio is a zip
bomb's, and an entry that unpacks to more than it declared. The whole archive is refused
only when it is not a zip or would unpack to more than :data:`MAX_ZIP_BYTES` in all. Each
file keeps the time the zip records for it (``--timezone`` says in which zone it was taken).
"""
from __future__ import annotations

import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path, PurePosixPath

__all__ = ["MAX_ZIP_BYTES", "MAX_RATIO", "ZipRefusal", "UnzipError", "unpack_zip", "CLUTTER"]

MAX_ZIP_BYTES = 2 * 1024 ** 3      # uncompressed total: a zip bomb stops here
MAX_RATIO = 200                    # uncompressed / compressed, for entries above 1 MB
CLUTTER = {"__MACOSX", ".DS_Store", ".ipynb_checkpoints", "Thumbs.db", "desktop.ini"}


class UnzipError(RuntimeError):
    """The archive as a whole cannot be used."""


@dataclass(frozen=True)
class ZipRefusal:
    entry: str    # the entry's name as the zip holds it
    reason: str


def _unsafe(name: str) -> str | None:
    if "\x00" in name:
        return "its name holds a NUL character"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "an absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "a path that climbs out of the folder (..)"
    return None


def _is_clutter(name: str) -> bool:
    return any(part in CLUTTER or part.startswith("._") for part in PurePosixPath(name).parts)


def unpack_zip(archive: Path, into: Path, zone: tzinfo = timezone.utc) -> list[ZipRefusal]:
    """Extract the safe entries of ``archive`` under ``into``; the refused ones with reasons."""
    refused = []
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            total = sum(m.file_size for m in members)
            if total > MAX_ZIP_BYTES:
                raise UnzipError(f"{archive.name} would unpack to {total / 1e9:.1f} GB "
                                 f"(the limit is {MAX_ZIP_BYTES / 1e9:.0f} GB)")
            for member in members:
                name = member.filename
                if _is_clutter(name):
                    continue
                reason = _unsafe(name) or _refused_member(member)
                if reason is None:
                    reason = _extract(zf, member, into, zone)
                if reason:
                    refused.append(ZipRefusal(name, reason))
    except zipfile.BadZipFile as exc:
        raise UnzipError(f"{archive.name} is not a valid zip file: {exc}") from exc
    return refused


def _refused_member(member: zipfile.ZipInfo) -> str | None:
    if stat.S_ISLNK(member.external_attr >> 16):
        return "a symbolic link (links are never followed)"
    if member.flag_bits & 0x1:
        return "encrypted"
    if member.file_size > 1024 ** 2 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
        return (f"compressed {member.file_size // max(member.compress_size, 1)}:1 "
                f"(more than {MAX_RATIO}:1: a zip bomb?)")
    return None


def _extract(zf: zipfile.ZipFile, member: zipfile.ZipInfo, into: Path, zone: tzinfo) -> str | None:
    target = into.joinpath(*PurePosixPath(member.filename.replace("\\", "/")).parts)
    if member.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except FileExistsError:
        return "a second entry of the same name"
    except OSError as exc:
        return f"cannot be written: {exc.strerror}"
    written = 0
    try:
        with os.fdopen(fd, "wb") as out, zf.open(member) as source:
            while chunk := source.read(1024 ** 2):
                written += len(chunk)
                if written > member.file_size:
                    break
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError) as exc:  # CRC, zlib, truncation
        target.unlink(missing_ok=True)
        return f"damaged: {exc}"
    if written > member.file_size:
        target.unlink()
        return "unpacks to more than it declares"
    when = datetime(*member.date_time, tzinfo=zone).timestamp()
    os.utime(target, (when, when))
    return None
