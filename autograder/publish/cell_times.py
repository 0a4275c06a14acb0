"""How long each cell of a source notebook takes, measured at release: the cells' time limits.

``course release`` runs every assignment's source notebook once, the way grading runs a
submission (in the sandbox's student host, ``NBGRADER_EXECUTION=autograde``, hidden blocks taken
out), and stores each cell's seconds in ``cell_times/<assignment>.json`` beside this module,
with a fingerprint of the notebook's code. When grading, a cell may run :data:`FACTOR` times
its own time in that run, at least ``cell_time_floor`` seconds and at most ``cell_timeout``
(:class:`~autograder.settings.GradingSettings`); a student's cell is matched to the source's by
its grade id, or an unmarked cell by its text; a cell the source does not have gets the floor.
When no stored times match the source (it changed since the release), grading measures them
itself before the first submission and says so.
"""
from __future__ import annotations

import copy
import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["CellTimes", "cell_key", "fingerprint", "limits", "measure", "measure_assignments", "load", "save",
           "STORE"]

STORE = Path(__file__).resolve().parent / "cell_times"


@dataclass(frozen=True)
class CellTimes:
    fingerprint: str
    seconds: dict          # cell key: seconds its run took
    measured_on: str = ""  # the machine and time of the measurement, for the reader


def cell_key(cell) -> str:
    """A graded or solution cell by its grade id; any other cell by its text."""
    grade_id = (cell.metadata.get("nbgrader", {}) or {}).get("grade_id")
    if grade_id:
        return grade_id
    return "text:" + hashlib.sha1(cell.source.strip().encode()).hexdigest()[:16]


def fingerprint(source_nb) -> str:
    """The code of a source notebook, hashed: stored times are for this code only."""
    digest = hashlib.sha1()
    for cell in source_nb.cells:
        if cell.cell_type == "code":
            digest.update(cell_key(cell).encode() + b"\0" + cell.source.encode() + b"\0")
    return digest.hexdigest()


def limits(times: CellTimes, settings):
    """``limit(cell)``: the seconds a submission's cell may run."""
    def limit(cell) -> float:
        own = times.seconds.get(cell_key(cell))
        derived = settings.cell_time_floor if own is None else \
            max(settings.cell_time_floor, settings.cell_time_factor * float(own))
        return min(float(settings.cell_timeout), derived)
    return limit


def measure(source_nb, session, settings) -> CellTimes:
    """Run the source notebook (hidden blocks taken out) in a host ``session``; its times."""
    from ..grade.notebook_run import run_cells
    from ..grade.verdicts import take_hidden

    nb = copy.deepcopy(source_nb)
    take_hidden(nb)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    run = run_cells(nb, session, lambda cell: float(settings.cell_timeout), settings.max_output_lines, cells)
    if run.failure:
        raise RuntimeError(f"the source notebook does not run: {run.failure}")
    seconds: dict[str, float] = {}
    for index, cell in enumerate(cells):
        key = cell_key(cell)
        seconds[key] = round(seconds.get(key, 0.0) + run.seconds.get(index, 0.0), 4)
    where = f"{platform.node() or 'a machine'}, {time.strftime('%Y-%m-%d %H:%M')}"
    return CellTimes(fingerprint(source_nb), seconds, where)


def _path(assignment: str, store: Path | None) -> Path:
    return Path(store or STORE) / f"{assignment}.json"


def load(assignment: str, source_nb, store: Path | None = None) -> CellTimes | None:
    """The stored times of ``assignment`` when they were measured on this source's code."""
    path = _path(assignment, store)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        times = CellTimes(str(data["fingerprint"]), {str(k): float(v) for k, v in data["seconds"].items()},
                          str(data.get("measured_on", "")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return times if times.fingerprint == fingerprint(source_nb) else None


def save(assignment: str, times: CellTimes, store: Path | None = None) -> Path:
    path = _path(assignment, store)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(times), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def measure_assignments(names, root: Path, settings, store: Path | None = None) -> list[Path]:
    """Measure each assignment's source notebook on a student host; store and list the files."""
    import tempfile

    import nbformat

    from ..sandbox.host import Host, Session
    from ..grade.integrity import FORBIDDEN
    from ..sandbox.policy import hidden_paths, student_policy

    written = []
    with tempfile.TemporaryDirectory(prefix="cell-times-") as scratch:
        hidden = hidden_paths(root, settings.source_directory, Path(scratch) / "out", Path(scratch) / "in")
        host = Host(student_policy(settings, hidden, 1), 1, FORBIDDEN, settings.max_output_lines)
        try:
            if not host.ready(300):
                raise RuntimeError("the student host did not start")
            for name in names:
                source = nbformat.read(Path(root) / settings.source_directory / name / f"{name}.ipynb", 4)
                session = Session(host.address, cold=not settings.warm_kernels)
                try:
                    written.append(save(name, measure(source, session, settings), store))
                finally:
                    session.close()
        finally:
            host.close()
    return written
