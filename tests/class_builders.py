"""Class folders built the way each LMS builds its bulk download (names, late marks,
re-uploads, attempts), and zips of them, for the intake tests."""
import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import nbformat


def _write(path: Path, notebook, when: datetime | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, (bytes, str)):
        path.write_bytes(notebook if isinstance(notebook, bytes) else notebook.encode())
    else:
        nbformat.write(notebook, path)
    if when is not None:
        os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def canvas(root: Path, name: str, user_id: int, submission_id: int, files: list, late=False,
           when: datetime | None = None):
    """Canvas's flat files: ``doejane[_LATE]_12345_67890_optimizers.ipynb``; ``files`` holds
    ``(uploaded name, notebook)`` in upload order: a re-upload of one name becomes ``name-1``."""
    seen: dict[str, int] = {}
    for uploaded, notebook in files:
        stem, ext = os.path.splitext(uploaded)
        n = seen.get(uploaded, 0)
        seen[uploaded] = n + 1
        shown = f"{stem}-{n}{ext}" if n else uploaded
        _write(root / f"{name}{'_LATE' if late else ''}_{user_id}_{submission_id}_{shown}", notebook, when)


def moodle(root: Path, full_name: str, participant: int, files: dict, folders=True):
    """Moodle's "download all submissions": ``Jane Doe_12345_assignsubmission_file_/x.ipynb``
    (in folders) or ``Jane Doe_12345_assignsubmission_file_x.ipynb`` (flat)."""
    prefix = f"{full_name.replace('_', ' ')}_{participant}_assignsubmission_file_"
    for uploaded, notebook in files.items():
        _write(root / (f"{prefix}/{uploaded}" if folders else f"{prefix}{uploaded}"), notebook)


def blackboard(root: Path, assignment_title: str, username: str, when: datetime, files: dict):
    """Blackboard's "assignment file download": a receipt ``.txt`` per attempt beside
    ``Title_user_attempt_2026-11-20-17-00-00_optimizers.ipynb``."""
    stamp = when.strftime("%Y-%m-%d-%H-%M-%S")
    base = f"{assignment_title}_{username}_attempt_{stamp}"
    listing = "".join(f"\tOriginal filename: {f}\n\tFilename: {base}_{f}\n" for f in files)
    _write(root / f"{base}.txt", f"Name: {username}\nAssignment: {assignment_title}\n"
                                 f"Date Submitted: {when:%A, %B %d, %Y %I:%M:%S %p}\n\nFiles:\n{listing}")
    for uploaded, notebook in files.items():
        _write(root / f"{base}_{uploaded}", notebook)


def nbgrader_submitted(root: Path, student: str, assignment: str, notebook, timestamp: str | None = None):
    """nbgrader's collected layout: ``submitted/<student>/<assignment>/<assignment>.ipynb``."""
    folder = root / "submitted" / student / assignment
    _write(folder / f"{assignment}.ipynb", notebook)
    if timestamp:
        (folder / "timestamp.txt").write_text(timestamp)


def zip_folder(folder: Path, archive: Path, top: str | None = None) -> Path:
    """``folder`` zipped as the LMS gives it (entries at the top, or under ``top``), each
    entry dated by its file's time."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                name = path.relative_to(folder).as_posix()
                info = zipfile.ZipInfo(f"{top}/{name}" if top else name,
                                       datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    return archive
