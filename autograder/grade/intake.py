"""Taking in a class: a folder or ``.zip`` in any layout of :mod:`autograder.grade.layouts`, never
anything outside it.

:func:`read_class` detects the layout (or takes ``--layout``), gathers each student's files,
keeps the latest submission (:func:`autograder.grade.submissions.choose`), maps LMS ids to the
course's ids through the roster, and accounts for every entry of the class folder: each
student gets a :class:`~autograder.grade.submissions.Submission` (a notebook, or the reason there
is none), and every other entry that is not system clutter (``__MACOSX``, ``.DS_Store``,
``.ipynb_checkpoints``) gets a :class:`Refusal` with its reason.

No symbolic link is followed out of its student's own folder: a link to another student's
folder, into the course repository, or anywhere outside the class folder is refused, for
folders and files alike, with where it points.
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

from . import layouts
from .layouts import Named
from .roster import Roster
from .submissions import STUDENT_ID, Submission, SubmissionsError, choose
from .unzip import CLUTTER, UnzipError, unpack_zip

__all__ = ["Refusal", "Intake", "read_class", "detect_layout", "format_time"]


@dataclass(frozen=True)
class Refusal:
    """An entry of the class folder that is no student's submission, and why."""

    entry: str
    reason: str


@dataclass
class Intake:
    layout: str
    detected: bool                 # found by looking, not forced with --layout
    submissions: list[Submission]
    refused: list[Refusal]


@dataclass
class _Pile:
    """One student's files as the layout names them."""

    key: str
    name: str | None = None
    files: list[tuple[Named, Path, str]] = field(default_factory=list)
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    timestamp: str | None = None


def format_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class _Guard:
    """Which symbolic links may be followed: only those that stay in the student's own folder."""

    def __init__(self, root: Path, repository: Path):
        self.root, self.repository = root.resolve(), repository.resolve()

    def refuse(self, link: Path, own: Path | None) -> str | None:
        target = Path(os.path.realpath(link))
        if not os.path.lexists(target) or not target.exists():
            return "a broken symbolic link"
        if own is not None and target.is_relative_to(own.resolve()) and not own.is_symlink():
            return None
        if target.is_relative_to(self.root):
            parts = target.relative_to(self.root).parts
            where = f"another student's folder ({parts[0]})" if parts else "the class folder itself"
            return f"a symbolic link to {where}: not followed"
        if target.is_relative_to(self.repository):
            return f"a symbolic link into the course repository ({target.relative_to(self.repository)}): not followed"
        return f"a symbolic link out of the class folder (to {target}): not followed"


def _entries(folder: Path):
    try:
        return sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []


def _walk(folder: Path, guard: _Guard, own: Path | None, prefix: str) -> tuple[list[tuple[Path, str]], list[str]]:
    """Files under ``folder`` (``(path, path relative to own)``), never through a link that
    leaves ``own``; and the refused entries with their reasons."""
    files, refused = [], []
    for entry in _entries(folder):
        if entry.name in CLUTTER or entry.name.startswith("._"):
            continue
        path, rel = Path(entry.path), f"{prefix}{entry.name}"
        if entry.is_symlink():
            reason = guard.refuse(path, own)
            if reason is None and path.is_dir():
                reason = "a symbolic link to a folder: not followed"
            if reason:
                refused.append(f"{rel}: {reason}")
            else:
                files.append((path.resolve(), rel))
        elif entry.is_dir(follow_symlinks=False):
            more, bad = _walk(path, guard, own, f"{rel}/")
            files += more
            refused += bad
        elif entry.is_file(follow_symlinks=False):
            files.append((path, rel))
    return files, refused


def _clutter(name: str) -> bool:
    return name in CLUTTER or name.startswith("._")


def _visible(name: str) -> str:
    """A name as the TA should read it: look-alike characters (``∕`` for ``/``) shown escaped."""
    return name if name.isascii() and name.isprintable() else ascii(name)


def detect_layout(root: Path, assignment: str) -> str:
    """The layout whose names most of the class folder's entries have."""
    if (root / "submitted").is_dir() and not (root / "submitted").is_symlink():
        return "nbgrader"
    names = [e.name for e in _entries(root) if not _clutter(e.name)]
    files = [e.name for e in _entries(root) if not _clutter(e.name) and e.is_file(follow_symlinks=False)]
    votes = {"moodle": sum(bool(layouts.moodle(n)) for n in names),
             "blackboard": sum(bool(layouts.blackboard(n)) for n in files),
             "canvas": sum(bool(layouts.canvas(n)) for n in files)}
    best = max(votes, key=votes.get)
    if votes[best] and votes[best] * 2 >= len(names):
        return best
    for entry in _entries(root):
        sub = Path(entry.path) / assignment
        if entry.is_dir(follow_symlinks=False) and sub.is_dir() and not sub.is_symlink():
            return "nbgrader"
    return "folder"


def _gather_folders(root: Path, assignment: str, guard: _Guard, nbgrader: bool, refused: list[Refusal]):
    piles = {}
    for entry in _entries(root):
        if _clutter(entry.name):
            continue
        path, name = Path(entry.path), entry.name
        if entry.is_symlink() and path.is_dir():
            piles[name] = _Pile(name, problem=f"refused: {guard.refuse(path, None)}")
            continue
        if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
            what = ("a notebook outside any student folder: whose is it?" if name.endswith(".ipynb")
                    else "not a student folder")
            refused.append(Refusal(_visible(name), guard.refuse(path, None) if entry.is_symlink() else what))
            continue
        pile = piles[name] = _Pile(name)
        folder = path
        if nbgrader:
            folder = path / assignment
            if folder.is_symlink():
                pile.problem = f"refused: {name}/{assignment}: {guard.refuse(folder, None)}"
                continue
            if not folder.is_dir():
                others = ", ".join(e.name for e in _entries(path) if e.is_dir(follow_symlinks=False)) or "nothing"
                pile.problem = f"no {assignment} submission in nbgrader's layout (this folder holds: {others})"
                continue
        files, bad = _walk(folder, guard, path, "")
        pile.notes += [f"refused {b}" for b in bad]
        stamp = folder / "timestamp.txt"
        if stamp.is_file() and not stamp.is_symlink():
            pile.timestamp = stamp.read_text(errors="replace").strip()[:64] or None
        prefix = f"{name}/{assignment + '/' if nbgrader else ''}"
        pile.files = [(Named(name, rel), p, prefix + rel) for p, rel in files if rel != "timestamp.txt"]
        if not files and bad:
            pile.problem = f"refused {bad[0]}"
    return piles


def _gather_named(root: Path, layout: str, guard: _Guard, refused: list[Refusal], regex, zone):
    """Canvas, Moodle, Blackboard and --pattern: students found by the names of the files."""
    piles: dict[str, _Pile] = {}

    def add(named: Named | None, path: Path, entry: str, link: bool) -> bool:
        if named is None:
            return False
        pile = piles.setdefault(named.key, _Pile(named.key, named.name))
        if link:
            pile.notes.append(f"refused {entry}: {guard.refuse(path, None)}")
        elif named.plugin not in (None, "file"):
            pile.notes.append(f"ignored {entry}: Moodle's {named.plugin} submission, not a file")
        elif not named.info:
            pile.files.append((named, path, entry))
        return True

    if layout == "pattern":
        files, bad = _walk(root, guard, None, "")
        refused += [Refusal(*b.split(": ", 1)) for b in bad]
        for path, rel in files:
            if not add(layouts.pattern(regex, rel, zone), path, rel, False):
                refused.append(Refusal(_visible(rel), "does not match --pattern"))
        return piles
    for entry in _entries(root):
        if _clutter(entry.name):
            continue
        path, name, link = Path(entry.path), entry.name, entry.is_symlink()
        if layout == "moodle" and entry.is_dir(follow_symlinks=False):
            named = layouts.moodle(name, "")
            if named is not None:
                files, bad = _walk(path, guard, path, "")
                pile = piles.setdefault(named.key, _Pile(named.key, named.name))
                pile.notes += [f"refused {name}/{b}" for b in bad]
                for p, rel in files:
                    add(replace(named, file=rel), p, f"{name}/{rel}", False)
                continue
        rule = {"canvas": layouts.canvas, "moodle": layouts.moodle,
                "blackboard": lambda n: layouts.blackboard(n, zone)}[layout]
        if not add(rule(name) if not entry.is_dir(follow_symlinks=False) or link else None, path, name, link):
            refused.append(Refusal(_visible(name), guard.refuse(path, None) if link else
                                   f"not named as {layout.capitalize()} names a submission"))
    return piles


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _course_ids(piles: dict[str, _Pile], layout: str) -> dict[str, str]:
    """The id a student gets without a roster: a folder's name, Blackboard's username, a
    pattern's student_id; a Canvas or Moodle name made an id (with the LMS id when two clash)."""
    if layout not in ("canvas", "moodle"):
        return {key: key for key in piles}
    ids = {key: _slug(pile.name or "") or key for key, pile in piles.items()}
    clashes = {v for v in ids.values() if list(ids.values()).count(v) > 1}
    return {key: f"{v}-{key}" if v in clashes else v for key, v in ids.items()}


def read_class(path: Path, assignment: str, scratch: Path, layout: str | None = None,
               pattern: str | None = None, roster: Roster | None = None, due: datetime | None = None,
               zone: tzinfo = timezone.utc, repository: Path | None = None) -> Intake:
    """Every student's submission (or the reason there is none) and every other entry's reason."""
    from ..settings import COURSE_ROOT

    path, refused = Path(path), []
    if not path.exists():
        raise SubmissionsError(f"no such file or folder: {path}")
    if path.is_file():
        if path.suffix.lower() != ".zip":
            raise SubmissionsError(f"{path} is neither a folder nor a .zip")
        unpacked = scratch / "unzipped"
        if unpacked.exists():
            shutil.rmtree(unpacked)
        unpacked.mkdir(parents=True)
        try:
            refused += [Refusal(f"{path.name}:{r.entry}", f"refused: {r.reason}")
                        for r in unpack_zip(path, unpacked, zone)]
        except UnzipError as exc:
            raise SubmissionsError(str(exc)) from exc
        path = _unwrap(unpacked, assignment)
    regex = layouts.compile_pattern(pattern) if pattern else None
    detected = layout is None
    layout = layout or ("pattern" if regex else detect_layout(path, assignment))
    if layout == "pattern" and regex is None:
        raise SubmissionsError("--layout pattern needs --pattern REGEX")
    if layout == "nbgrader" and (path / "submitted").is_dir():
        path = path / "submitted"
    guard = _Guard(path, repository or COURSE_ROOT)
    if layout in ("folder", "nbgrader"):
        piles = _gather_folders(path, assignment, guard, layout == "nbgrader", refused)
    else:
        piles = _gather_named(path, layout, guard, refused, regex, zone)
    submissions = _assign(piles, layout, assignment, roster, due, zone)
    if not submissions:
        raise SubmissionsError(f"{path} holds no submissions in the {layout} layout (for the folder "
                               f"layout: one folder per student holding {assignment}.ipynb)")
    return Intake(layout, detected, submissions, refused)


def _unwrap(unpacked: Path, assignment: str) -> Path:
    """A zip of the class folder itself: its one top folder, unless that is a student's."""
    entries = [e for e in _entries(unpacked) if not _clutter(e.name)]
    if len(entries) == 1 and entries[0].is_dir(follow_symlinks=False):
        top = Path(entries[0].path)
        if layouts.moodle(top.name, "") or (top / assignment).is_dir():
            return unpacked  # a Moodle participant's folder, or one student in nbgrader's layout
        if detect_layout(top, assignment) != "folder" or \
                not any(p.suffix == ".ipynb" for p in top.iterdir() if p.is_file()):
            return top
    return unpacked


def _assign(piles: dict[str, _Pile], layout: str, assignment: str, roster: Roster | None,
            due: datetime | None, zone: tzinfo) -> list[Submission]:
    ids = _course_ids(piles, layout)
    merged: dict[str, tuple[_Pile, dict, str | None]] = {}
    for key, pile in piles.items():
        sid, lms, when = ids[key], {}, None
        if layout == "canvas":
            lms = {"Student": pile.name or "", "ID": key}
        if roster is not None:
            student = roster.find(key, pile.name)
            if student is None:
                pile.notes.append("not on the roster")
            else:
                sid, lms, when = student.student_id, {**lms, **student.lms}, student.submitted_at
        if sid in merged:  # one student, two LMS keys: one pile
            first = merged[sid][0]
            first.files += pile.files
            first.notes += pile.notes + [f"also submitted as {key}"]
            continue
        merged[sid] = (pile, lms, when)
    found = []
    for sid, (pile, lms, roster_time) in sorted(merged.items()):
        if not STUDENT_ID.match(sid):
            found.append(Submission(_visible(sid), None, f"invalid student id {_visible(sid)}: use "
                                    "letters, digits and . _ - @ + (start with a letter or digit)"))
            continue
        if pile.problem:
            found.append(Submission(sid, None, pile.problem, "; ".join(pile.notes) or None))
            continue
        submission = choose(sid, pile.files, assignment, pile.notes)
        stamp = _timestamp(submission, pile, layout, roster_time, due, zone)
        found.append(replace(submission, timestamp=stamp, lms=lms))
    if roster is not None:
        present = {s.student_id for s in found}
        found += [Submission(s.student_id, None, "no submission", lms=s.lms, absent=True)
                  for s in roster.students if s.student_id not in present]
    return sorted(found, key=lambda s: s.student_id)


def _timestamp(submission: Submission, pile: _Pile, layout: str, roster_time: str | None,
               due: datetime | None, zone: tzinfo) -> str | None:
    """When it was handed in: the roster's time, nbgrader's timestamp.txt, the time in the
    LMS's name; for Canvas, whose names hold only a LATE mark, a LATE file is late: by its
    file time when that is after ``due``, else by one second."""
    if roster_time:
        when = layouts.parse_time(roster_time, zone)
        return format_time(when) if when else None
    if pile.timestamp:
        return pile.timestamp
    named = next((n for n, _, entry in pile.files if entry == submission.entry), None)
    if named is None:
        return None
    if named.submitted:
        return format_time(named.submitted)
    if layout in layouts.MARKS_LATE and named.late and due is not None:
        path = next(p for n, p, e in pile.files if e == submission.entry)
        mtime = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
        return format_time(mtime if mtime > due else due + timedelta(seconds=1))
    return None
