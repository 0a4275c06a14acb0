"""What nbgrader's gradebook says about each student: the autograded points, the written
answers graded by hand so far, and those still waiting for a TA in formgrader."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["GradebookScores", "grading_api", "manual_cells", "read_gradebook", "new_gradebook"]


def new_gradebook(path: Path) -> None:
    """An empty nbgrader gradebook at ``path`` (nothing is done when one is there), as nbgrader's
    ``Gradebook`` creates one: its tables, stamped with the newest of its migrations. nbgrader
    finds that migration by running ``alembic heads`` in a new Python process (2.5 s of CPU);
    here alembic reads nbgrader's migration scripts in this process."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.api import Base
    from nbgrader.dbutil import _temp_alembic_ini
    from sqlalchemy import create_engine, inspect, text

    url = f"sqlite:///{Path(path).resolve()}"
    engine = create_engine(url, future=True)
    try:
        if inspect(engine).get_table_names():
            return
        with _temp_alembic_ini(url) as ini:
            head = ScriptDirectory.from_config(Config(ini)).get_current_head()
        Base.metadata.create_all(bind=engine)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head})
    finally:
        engine.dispose()


def grading_api(work: Path, settings, **overrides):
    """nbgrader's API on the grading course ``work`` (``OUT/nbgrader``), scoring only;
    ``overrides`` are more ``{"Class.trait": value}`` settings."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, SaveAutoGrades

    from ..settings import make_api

    return make_api(work, settings, **{
        "CourseDirectory.source_directory": "source",
        "CourseDirectory.release_directory": "release",
        "CourseDirectory.submitted_directory": "executed",
        "CourseDirectory.autograded_directory": "autograded",
        "CourseDirectory.feedback_directory": "feedback",
        # the notebook was executed by a worker: here nbgrader only scores and records it
        "Autograde.sanitize_preprocessors": [CheckCellMetadata],
        "Autograde.autograde_preprocessors": [ClearMetadataPreprocessor, SaveAutoGrades,
                                              AssignLatePenalties, CheckCellMetadata],
        **overrides,
    })


@dataclass(frozen=True)
class GradebookScores:
    """One student's scores as nbgrader's gradebook holds them."""

    score: float                 # nbgrader's total, after its late penalty
    cells: dict[str, float]      # the cells that have a score (written answers awaiting grading have none)
    penalty: float
    seconds_late: float
    auto_score: float            # the autograded cells
    manual_score: float          # the written answers graded so far
    pending: list[str]           # the written answers that await manual grading


def manual_cells(api, assignment: str) -> list[str]:
    """The manually graded answer cells (grade and solution cells at once), in notebook order."""
    with api.gradebook as gb:
        found = []
        for notebook in gb.find_assignment(assignment).notebooks:
            answers = {c.name for c in notebook.solution_cells}
            found += [c.name for c in notebook.grade_cells if c.name in answers]
    return found


def read_gradebook(api, assignment: str):
    """Grade cells in notebook order, their maxima, and every graded student's
    :class:`GradebookScores`: the autograded points, the written answers graded so far and
    those still pending, the total after nbgrader's late penalty, and the penalty itself."""
    from nbgrader.api import MissingEntry

    manual = set(manual_cells(api, assignment))
    with api.gradebook as gb:
        assignment_row = gb.find_assignment(assignment)
        cells = []
        for notebook in assignment_row.notebooks:
            for cell in notebook.grade_cells:
                cells.append((cell.name, float(cell.max_score)))
        max_score = float(assignment_row.max_score)
        scores = {}
        for student in gb.students:
            try:
                submission = gb.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            grades = [g for nb in submission.notebooks for g in nb.grades]
            pending = [g.name for g in grades if g.name in manual and g.needs_manual_grade]
            per_cell = {g.name: float(g.score) for g in grades if g.name not in pending}
            penalty = float(submission.late_submission_penalty or 0)
            scores[student.id] = GradebookScores(
                float(submission.score) - penalty, per_cell, penalty, float(submission.total_seconds_late or 0),
                auto_score=sum(v for k, v in per_cell.items() if k not in manual),
                manual_score=sum(v for k, v in per_cell.items() if k in manual),
                pending=[name for name, _ in cells if name in pending])
    return cells, max_score, scores
