"""Does the released assignment work for a student in JupyterLab?

The student opens ``course/assignments/optimizers/optimizers.ipynb``, runs everything with the
stubs in place (the first visible test fails with nbgrader's ``NotImplementedError``), writes
a correct ``sgd_momentum_step`` into its cell, runs everything again, and sees that function's
visible tests pass (the next function's tests now fail the same way).
"""
from __future__ import annotations

import re

import nbformat
import pytest

import lab_page
from course_paths import RELEASE, SOURCE

pytestmark = pytest.mark.browser

#: the stub nbgrader puts in place of a solution
STUB = "raise NotImplementedError()"
SOLUTION_MARK = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def answer(grade: str) -> str:
    """What a correct student writes: the instructor's cell without nbgrader's markers."""
    for cell in nbformat.read(SOURCE, as_version=4).cells:
        if grade_id(cell) == grade:
            return "\n".join(line for line in cell.source.splitlines() if not SOLUTION_MARK.match(line))
    raise LookupError(f"no solution cell {grade!r} in {SOURCE}")


def layout():
    """Indices of the solution cells (with their grade ids) and of each one's visible test cells."""
    cells = nbformat.read(RELEASE, as_version=4).cells
    solutions = [(i, grade_id(c)) for i, c in enumerate(cells)
                 if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    tests = {}
    for position, (index, _) in enumerate(solutions):
        end = solutions[position + 1][0] if position + 1 < len(solutions) else len(cells)
        tests[index] = [i for i in range(index + 1, end) if cells[i].metadata.get("nbgrader", {}).get("grade")]
    return cells, solutions, tests


@pytest.mark.skipif(not RELEASE.exists() or not SOURCE.exists(), reason="the optimizers assignment is not released yet")
def test_student_fills_a_solution_and_sees_visible_tests_pass(lab, page, screenshot):
    """Stub left: NotImplementedError in its visible test. Correct code typed in: its tests pass."""
    cells, solutions, tests = layout()
    (first, first_id), (second, _) = solutions[0], solutions[1]
    assert STUB in cells[first].source, "the release should carry nbgrader's stub"
    assert tests[first] and tests[second], "each solution cell should be followed by visible tests"

    lab_page.open_notebook(page, lab.notebook_url(f"course/assignments/optimizers/{RELEASE.name}"))

    # 1. untouched release: Run All stops at the first visible test, with nbgrader's message
    shown = lab_page.run_all(page, timeout=180)
    lab_page.cell_locator(page, tests[first][0]).scroll_into_view_if_needed()
    screenshot(page, "assignment-stub-fails")
    assert [e.split(":")[0] for e in lab_page.errors(shown)] == [f"cell {tests[first][0]}"]
    assert "NotImplementedError" in lab_page.errors(shown)[0]

    # 2. the student types a correct implementation into the solution cell and runs all again
    lab_page.set_cell_source(page, first, answer(first_id))
    shown = lab_page.run_all(page, timeout=180)
    lab_page.cell_locator(page, tests[first][-1]).scroll_into_view_if_needed()
    screenshot(page, "assignment-solution-passes")
    for index in tests[first]:
        assert any(ch.isdigit() for ch in shown[index]["prompt"]), f"visible test cell {index} did not run"
        assert "visible tests passed" in " ".join(o["text"] for o in shown[index]["outputs"])
    errors = lab_page.errors(shown)
    assert [e.split(":")[0] for e in errors] == [f"cell {tests[second][0]}"], errors
    assert "NotImplementedError" in errors[0]
