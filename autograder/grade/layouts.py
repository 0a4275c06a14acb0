"""How each learning-management system names the files of a bulk download, read back.

``course grade`` takes a class folder (or its ``.zip``) in one of these layouts; each rule
here turns one file (or folder) name into a :class:`Named`: whose it is, which file the
student uploaded, when, and how it sorts among that student's other submissions.

- ``folder``: ``<student_id>/<assignment>.ipynb`` (and optionally nbgrader's ``timestamp.txt``).
- ``nbgrader``: nbgrader's collected layout, ``submitted/<student_id>/<assignment>/<assignment>.ipynb``
  with its ``timestamp.txt``.
- ``canvas``: flat files ``doejane_12345_67890_optimizers.ipynb``: name, ``LATE`` when Canvas
  marked it late, Canvas user id, submission id, the uploaded name; a re-upload of the same
  name gets ``-1``, ``-2`` before the extension. No time is in the name.
- ``moodle``: ``Jane Doe_12345_assignsubmission_file_/optimizers.ipynb`` (folders) or
  ``Jane Doe_12345_assignsubmission_file_optimizers.ipynb`` (flat): full name, participant id,
  the submission plugin. No time is in the name.
- ``blackboard``: ``Optimizers_jdoe_attempt_2026-11-20-17-00-00_optimizers.ipynb`` beside
  ``Optimizers_jdoe_attempt_2026-11-20-17-00-00.txt``: assignment, username, the attempt's
  time (the server's local time: ``--timezone``), the uploaded name.
- ``pattern``: any other naming, read with a regular expression with the named groups
  ``student_id`` and ``file_id`` and optionally ``timestamp``, as nbgrader's ``zip_collect``
  plugin takes them, matched from the start of the path relative to the class folder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

__all__ = ["LAYOUTS", "MARKS_LATE", "Named", "canvas", "moodle", "blackboard", "pattern", "base_name",
           "PatternError", "parse_time"]

LAYOUTS = ("folder", "nbgrader", "canvas", "moodle", "blackboard", "pattern")

#: layouts whose names mark a late file (Canvas's ``_LATE``), so an unmarked file is on time
MARKS_LATE = ("canvas",)

CANVAS = re.compile(r"^(?P<name>[^_/]+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<file>[^/]+)$")
MOODLE = re.compile(r"^(?P<name>[^/]+?)_(?P<pid>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z]+)_(?P<file>[^/]*)$")
BLACKBOARD = re.compile(r"^(?P<assignment>[^/]+)_(?P<user>[^_/]+)_attempt_"
                        r"(?P<ts>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)(?:_(?P<file>[^/]+))?$")
RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)(?P<ext>\.[A-Za-z0-9]+)$")


class PatternError(ValueError):
    """A ``--pattern`` that is not a usable regular expression."""


@dataclass(frozen=True)
class Named:
    """What a submission's name says."""

    key: str                       # the student as the LMS knows them (id, participant, username)
    file: str                      # the file the student uploaded, re-upload marker removed
    attempt: tuple = ()            # sorts a student's attempts: the last one counts
    order: int = 0                 # sorts re-uploads of one file within an attempt
    name: str | None = None        # the student's name as the LMS wrote it
    submitted: datetime | None = None  # when the LMS says it was handed in (aware)
    late: bool = False             # the LMS marked it late
    info: bool = False             # the LMS's own receipt (Blackboard's .txt), not a submission
    plugin: str | None = None      # Moodle's submission plugin (file, onlinetext, ...)


def base_name(file: str) -> tuple[str, int]:
    """``("optimizers.ipynb", 2)`` for Canvas's re-upload ``optimizers-2.ipynb``."""
    match = RESUBMITTED.match(file)
    if match:
        return match["stem"] + match["ext"], int(match["n"])
    return file, 0


def canvas(name: str) -> Named | None:
    match = CANVAS.match(name)
    if not match:
        return None
    file, n = base_name(match["file"])
    return Named(match["user"], file, (int(match["sub"]),), n, name=match["name"],
                 late=bool(match["late"]))


def moodle(name: str, inner: str | None = None) -> Named | None:
    """A flat ``..._assignsubmission_file_x.ipynb``, or a folder ``..._file_`` with ``inner``."""
    match = MOODLE.match(name)
    if not match:
        return None
    file = inner if inner is not None else match["file"]
    return Named(match["pid"], file, (), 0, name=match["name"], plugin=match["plugin"])


def blackboard(name: str, zone: tzinfo = timezone.utc) -> Named | None:
    stem = name[:-4] if name.endswith(".txt") else None
    match = BLACKBOARD.match(stem) if stem is not None else None
    info = bool(match and not match["file"])
    if not info:
        match = BLACKBOARD.match(name)
    if not match:
        return None
    when = datetime.strptime(match["ts"], "%Y-%m-%d-%H-%M-%S").replace(tzinfo=zone)
    return Named(match["user"], match["file"] or "", (when,), 0, submitted=when, info=info)


def compile_pattern(text: str) -> re.Pattern:
    try:
        regex = re.compile(text)
    except re.error as exc:
        raise PatternError(f"--pattern is not a valid regular expression: {exc}") from exc
    missing = {"student_id", "file_id"} - set(regex.groupindex)
    if missing:
        raise PatternError(f"--pattern needs the named groups (?P<student_id>...) and (?P<file_id>...); "
                           f"missing: {', '.join(sorted(missing))}")
    return regex


def pattern(regex: re.Pattern, relative: str, zone: tzinfo = timezone.utc) -> Named | None:
    """nbgrader zip_collect's rule: ``re.match`` on the path, ``student_id``, ``file_id``,
    optional ``timestamp`` (any form ``parse_time`` reads)."""
    match = regex.match(relative)
    if not match or not match["student_id"]:
        return None
    groups = match.groupdict()
    when = parse_time(groups.get("timestamp"), zone)
    file = groups["file_id"] or ""
    if not file.endswith(".ipynb") and relative.endswith(".ipynb"):
        file += ".ipynb"
    return Named(groups["student_id"], file, (when,) if when else (), 0, submitted=when)


def parse_time(text: str | None, zone: tzinfo = timezone.utc) -> datetime | None:
    """A time as LMSs and nbgrader write it (``2026-11-20 17:00:00 UTC``, ``2026-11-20-17-00-00``,
    Moodle's ``Friday, 20 November 2026, 5:00 PM``); a time without a zone is in ``zone``."""
    if not text or not text.strip():
        return None
    text = text.strip()
    dashed = re.fullmatch(r"(\d{4}-\d\d-\d\d)-(\d\d)-(\d\d)-(\d\d)", text)
    if dashed:
        text = f"{dashed[1]} {dashed[2]}:{dashed[3]}:{dashed[4]}"
    from dateutil import parser, tz

    parts = text.split(" ")
    try:
        if len(parts) == 3 and tz.gettz(parts[2]) is not None:  # nbgrader's "date time Zone/Name"
            return parser.parse(" ".join(parts[:2])).replace(tzinfo=tz.gettz(parts[2]))
        when = parser.parse(text)
    except (ValueError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=zone)
