"""The class list (``--roster CSV``): who the LMS's ids and names are in the course's own ids.

A roster is a CSV with a header row. Read as-is:

- a Canvas gradebook export (``Student, ID, SIS User ID, SIS Login ID, Section``): the course
  id is ``SIS Login ID`` (else ``SIS User ID``, else Canvas's ``ID``);
- a Moodle grading worksheet (``Identifier, Full name, Email address, ...,
  Last modified (submission)``): the course id is the e-mail address's part before ``@``,
  and ``Last modified (submission)`` is the submission time ``--due`` is judged on;
- any CSV with a ``student_id`` column (the course id) and one or more of ``lms_id``,
  ``name``, ``email``, ``username``, and optionally ``submitted_at``.

``--roster-id COLUMN`` names the course-id column explicitly. A submission is matched by the
key its layout gives (Canvas user id, Moodle participant id, Blackboard username, a folder's
name) or by the student's name, compared without case, spaces or punctuation and in either
order ("Doe, Jane" is Canvas's ``doejane`` and Moodle's ``Jane Doe``).
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Student", "Roster", "read_roster", "RosterError", "normal"]

ID_COLUMNS = ("student_id", "SIS Login ID", "SIS User ID", "ID")
KEY_COLUMNS = ("lms_id", "ID", "Identifier", "Username", "username", "SIS User ID", "SIS Login ID",
               "student_id", "Email address", "email")
NAME_COLUMNS = ("name", "Student", "Full name")
TIME_COLUMNS = ("submitted_at", "Last modified (submission)")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


class RosterError(ValueError):
    """The roster cannot be read."""


def normal(text: str) -> str:
    """Lower case letters and digits only, accents dropped: how names and keys are compared."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _name_keys(name: str) -> set[str]:
    """``Doe, Jane`` and ``Jane Doe`` both give ``doejane`` and ``janedoe``."""
    if "," in name:
        last, first = name.split(",", 1)
    else:
        parts = name.split()
        first, last = " ".join(parts[:-1]), (parts[-1] if parts else "")
    return {normal(first + last), normal(last + first), normal(name)} - {""}


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str | None = None
    submitted_at: str | None = None
    lms: dict = field(default_factory=dict, compare=False)  # Canvas's columns, where the roster has them


@dataclass
class Roster:
    students: list[Student]
    by_key: dict[str, Student | None]  # None: two students share this key

    def find(self, key: str | None, name: str | None = None) -> Student | None:
        for candidate in [normal(key or "")] + sorted(_name_keys(name or "")):
            found = self.by_key.get(candidate) if candidate else None
            if found is not None:
                return found
        return None


def read_roster(path: Path, id_column: str | None = None) -> Roster:
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}") from exc
    if not rows:
        raise RosterError(f"the roster {path} has no rows")
    columns = list(rows[0])
    students, by_key = [], {}
    for row in rows:
        row = {k: (v or "").strip() for k, v in row.items() if k}
        if (row.get("Student") or "").strip() == "Points Possible" or "Points Possible" in row.values():
            continue  # the second row of a Canvas export
        sid = _course_id(row, columns, id_column)
        if not sid:
            continue
        name = next((row[c] for c in NAME_COLUMNS if row.get(c)), None)
        when = next((row[c] for c in TIME_COLUMNS if row.get(c) and row[c] != "-"), None)
        lms = {c: row[c] for c in CANVAS_COLUMNS if c in row}
        student = Student(sid, name, when, lms)
        students.append(student)
        keys = {normal(row[c].removeprefix("Participant ")) for c in KEY_COLUMNS if row.get(c)}
        keys |= _name_keys(name or "")
        for key in keys - {""}:
            by_key[key] = None if key in by_key and by_key[key] != student else student
    if not students:
        raise RosterError(f"the roster {path} names no student: give the course-id column "
                          f"with --roster-id (columns: {', '.join(columns)})")
    return Roster(students, by_key)


def _course_id(row: dict, columns: list[str], id_column: str | None) -> str | None:
    if id_column:
        if id_column not in columns:
            raise RosterError(f"the roster has no column {id_column!r} (columns: {', '.join(columns)})")
        return row.get(id_column) or None
    for column in ID_COLUMNS:
        if row.get(column):
            return row[column]
    email = row.get("Email address") or row.get("email")
    return email.split("@")[0] if email else None
