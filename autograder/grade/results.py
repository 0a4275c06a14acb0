"""A grading run kept as data (``OUT/results.json``), so that a regrade of a few students
(``--student``) merges into it and every output is written again from the whole class."""
from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from .class_run import GradingRun, StudentResult
from .intake import Refusal
from .outcome import Status

__all__ = ["save_run", "load_run", "merge_runs", "rescore", "RESULTS"]

RESULTS = "results.json"


def save_run(run: GradingRun, out: Path) -> Path:
    path = Path(out) / RESULTS
    data = {"assignment": run.assignment, "max_score": run.max_score, "cell_names": run.cell_names,
            "cell_max": run.cell_max, "layout": run.layout, "course_dir": str(run.course_dir),
            "manual_cells": run.manual_cells,
            "refused": [asdict(r) for r in run.refused],
            "results": [{**asdict(r), "feedback": str(r.feedback) if r.feedback else None,
                         "status": r.status.to_data()} for r in run.results]}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def load_run(out: Path) -> GradingRun | None:
    path = Path(out) / RESULTS
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    results = [StudentResult(**{**r, "feedback": Path(r["feedback"]) if r.get("feedback") else None,
                                "status": Status.from_data(r["status"])}) for r in data["results"]]
    return GradingRun(data["assignment"], results, data["cell_names"], data["max_score"],
                      Path(data["course_dir"]), data["cell_max"], data["layout"],
                      [Refusal(**r) for r in data["refused"]], data.get("manual_cells", []))


def merge_runs(earlier: GradingRun | None, regraded: GradingRun) -> GradingRun:
    """``earlier`` with the regraded students' rows replaced; everyone else's as they were."""
    if earlier is None:
        return regraded
    if earlier.assignment != regraded.assignment:
        raise ValueError(f"the output folder holds grades of {earlier.assignment!r}, not {regraded.assignment!r}")
    fresh = {r.student_id: r for r in regraded.results}
    results = [fresh.pop(r.student_id, r) for r in earlier.results] + list(fresh.values())
    return replace(regraded, results=results, refused=earlier.refused)


def rescore(run: GradingRun, settings) -> GradingRun:
    """``run`` with each graded student's scores read again from the gradebook: what a TA
    changed by hand in nbgrader's formgrader (the written answers graded, manual scores, extra
    credit) counts."""
    from .gradebook import manual_cells, read_gradebook
    from .gradebook import grading_api

    api = grading_api(run.course_dir, settings)
    _, _, scores = read_gradebook(api, run.assignment)
    results = []
    for r in run.results:
        if r.graded and r.student_id in scores:
            got = scores[r.student_id]
            r = replace(r, score=got.score, cells=got.cells, auto_score=got.auto_score,
                        manual_score=got.manual_score, pending=got.pending)
        results.append(r)
    return replace(run, results=results, manual_cells=manual_cells(api, run.assignment))
