"""Finding the class's submissions: a folder of student folders, or a ``.zip`` of one.

Every student folder becomes a :class:`Submission`: the notebook to grade, or the reason
there is none. Nothing here raises for one bad submission; the rest of the class goes on.
"""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["Submission", "SubmissionsError", "find_submissions", "unpack_zip", "read_notebook"]

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")
MAX_ZIP_BYTES = 2 * 1024 ** 3      # uncompressed total: a zip bomb stops here
MAX_NOTEBOOK_BYTES = 64 * 1024 ** 2


class SubmissionsError(RuntimeError):
    """The submissions themselves (the folder or the zip) cannot be read at all."""


@dataclass(frozen=True)
class Submission:
    student_id: str
    notebook: Path | None        # the notebook to grade, when there is one
    problem: str | None = None   # why it cannot be graded, in one line
    note: str | None = None      # something the TA should know about a graded submission
    timestamp: str | None = None  # nbgrader's timestamp.txt, when the student folder has one


def unpack_zip(archive: Path, into: Path) -> Path:
    """Extract ``archive`` safely (no absolute paths, no ``..``, no links, bounded size)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            total = sum(m.file_size for m in members)
            if total > MAX_ZIP_BYTES:
                raise SubmissionsError(f"{archive.name} would unpack to {total / 1e9:.1f} GB")
            for member in members:
                name = member.filename
                parts = Path(name).parts
                if name.startswith(("/", "\\")) or ".." in parts or (":" in name.split("/")[0]):
                    raise SubmissionsError(f"{archive.name} holds an unsafe path: {name!r}")
                if (member.external_attr >> 16) & 0o170000 == 0o120000:
                    continue  # symbolic links are skipped
                if "__MACOSX" in parts:
                    continue
                zf.extract(member, into)
    except zipfile.BadZipFile as exc:
        raise SubmissionsError(f"{archive.name} is not a valid zip file: {exc}") from exc
    entries = [p for p in into.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir() and not _looks_like_student(entries[0]):
        return entries[0]  # a zip of the submissions folder itself
    return into


def _looks_like_student(folder: Path) -> bool:
    return any(p.suffix == ".ipynb" for p in folder.iterdir() if p.is_file())


def find_submissions(path: Path, assignment: str, scratch: Path) -> list[Submission]:
    """One :class:`Submission` per student folder under ``path`` (a folder or a ``.zip``)."""
    path = Path(path)
    if not path.exists():
        raise SubmissionsError(f"no such file or folder: {path}")
    if path.is_file():
        if path.suffix.lower() != ".zip":
            raise SubmissionsError(f"{path} is neither a folder nor a .zip")
        unpacked = scratch / "unzipped"
        if unpacked.exists():
            shutil.rmtree(unpacked)
        unpacked.mkdir(parents=True)
        path = unpack_zip(path, unpacked)
    found = []
    for folder in sorted(p for p in path.iterdir() if not p.name.startswith((".", "__"))):
        if not folder.is_dir():
            continue
        found.append(_submission(folder, assignment))
    if not found:
        raise SubmissionsError(f"{path} holds no student folders (expected one folder per student "
                               f"holding {assignment}.ipynb)")
    return found


def _submission(folder: Path, assignment: str) -> Submission:
    student_id = folder.name
    if not STUDENT_ID.match(student_id):
        return Submission(student_id, None, "invalid student id: use letters, digits and . _ - @ +")
    stamp = folder / "timestamp.txt"
    timestamp = stamp.read_text(errors="replace").strip()[:64] if stamp.is_file() else None
    expected = folder / f"{assignment}.ipynb"
    notebooks = sorted(p for p in folder.rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts and not p.is_symlink())
    if expected.is_file() and not expected.is_symlink():
        chosen, note = expected, None
        if len(notebooks) > 1:
            note = f"graded {expected.name}; ignored {len(notebooks) - 1} other notebook(s)"
    elif len(notebooks) == 1:
        chosen = notebooks[0]
        note = f"notebook was named {chosen.relative_to(folder)}, graded as {assignment}.ipynb"
    elif not notebooks:
        return Submission(student_id, None, f"no notebook: expected {assignment}.ipynb", timestamp=timestamp)
    else:
        names = ", ".join(str(p.relative_to(folder)) for p in notebooks[:4])
        return Submission(student_id, None, f"several notebooks ({names}) and none named "
                                            f"{assignment}.ipynb", timestamp=timestamp)
    problem = read_notebook(chosen)[1]
    return Submission(student_id, None if problem else chosen, problem, note, timestamp)


def _json_error(path: Path) -> str:
    try:
        json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return "not a notebook"


def read_notebook(path: Path):
    """``(notebook, None)``, or ``(None, reason)`` when it is not a readable notebook."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return None, f"invalid notebook: {size / 1e6:.0f} MB is too large"
        if size == 0:
            return None, "invalid notebook: the file is empty"
        with open(path, encoding="utf-8") as f:
            nb = nbformat.read(f, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError):
        return None, f"invalid notebook: not valid JSON ({_json_error(path)})"
    except UnicodeDecodeError:
        return None, "invalid notebook: not UTF-8 text"
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one student's problem
        return None, f"invalid notebook: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    if not nb.get("cells"):
        return None, "invalid notebook: it has no cells"
    return nb, None
