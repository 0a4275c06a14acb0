"""What grading one submission gives, as data: from the worker to the CSV and the report.

An :class:`Incident` is something that happened on the way to a grade (a cell stopped at its
time limit, an output flood, a late submission); a :class:`Status` says whether nbgrader scored
the notebook, or why not, with the incidents; an :class:`Outcome` is what a worker sends back.
The status is written as text only at the end (``str(status)``: ``graded``, ``graded (a cell
ran past its time limit of 10 s; late by 3.0 h: penalty 17)``, or the reason), never parsed back.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

__all__ = ["Incident", "Status", "Outcome", "GRADED", "graded", "not_graded"]

GRADED = "graded"


@dataclass(frozen=True)
class Incident:
    """Something the TA should read in a graded student's status."""

    kind: str   # what happened, for code: "cell time limit", "memory limit", "late", ...
    text: str   # in words, for the TA: "a cell ran past its time limit of 10 s"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Status:
    """Graded (with incidents), or not graded with the reason in one line."""

    graded: bool
    reason: str | None = None
    incidents: tuple[Incident, ...] = ()

    def __str__(self) -> str:
        if not self.graded:
            return self.reason or "not graded"
        texts = list(dict.fromkeys(i.text[:200] for i in self.incidents))
        return GRADED + (f" ({'; '.join(texts)})" if texts else "")

    def with_incidents(self, *incidents: Incident) -> "Status":
        return replace(self, incidents=(*self.incidents, *incidents))

    def has(self, kind: str) -> bool:
        return any(i.kind == kind for i in self.incidents)

    def to_data(self) -> dict:
        return asdict(self)

    @classmethod
    def from_data(cls, data) -> "Status":
        if isinstance(data, str):  # a results.json written before statuses were data
            graded_ = data == GRADED or data.startswith(GRADED + " (")
            inner = data[len(GRADED) + 2:-1] if data.startswith(GRADED + " (") else ""
            return cls(graded_, None if graded_ else data,
                       tuple(Incident("note", text) for text in inner.split("; ") if text))
        return cls(bool(data["graded"]), data.get("reason"),
                   tuple(Incident(**i) for i in data.get("incidents", ())))


def graded(*incidents: Incident) -> Status:
    return Status(True, None, tuple(incidents))


def not_graded(reason: str) -> Status:
    return Status(False, reason)


@dataclass
class Outcome:
    """One submission graded by a worker: the executed notebook, ready for nbgrader's scoring."""

    student_id: str
    status: Status
    notebook: bytes | None = None                          # the executed notebook, verdicts written in
    diagnoses: dict[str, list[str]] = field(default_factory=dict)  # graded cell: mistakes the checks named
    timings: dict[str, float] = field(default_factory=dict)        # seconds (and CPU seconds) per phase
