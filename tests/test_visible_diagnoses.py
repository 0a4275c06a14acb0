"""Do the visible tests name the typical mistake before the deadline?

Every catalogued mistake (autograder.checks.catalogue) is put in place of the solution's
function, as a student who made it would have it, and every visible test cell that reaches
that function is run with the released ``mistakes.json`` read by the student-side
``course.feedback.Explainer``, exactly as in the student's notebook.
"""
import json

import nbformat
import numpy as np
import pytest

from autograder.checks.catalogue import catalogue
from autograder.checks.visible import Session
from autograder.publish.release import assignments
from autograder.settings import COURSE_ROOT
from course.feedback import DATA_NAME, LIKELY, Explainer

pytestmark = pytest.mark.slow

NAMES = assignments()

@pytest.fixture(scope="module", params=NAMES)
def released(request):
    """An assignment's source notebook run once, and its released visible-diagnosis data."""
    name = request.param
    source = nbformat.read(COURSE_ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
    path = COURSE_ROOT / "course" / "assignments" / name / DATA_NAME
    return name, Session(source, name), Explainer(name, path=path)


def test_every_catalogued_mistake_fails_a_visible_test_that_names_it(released):
    """Does each typical mistake fail at least one visible test, and does every visible test it
    fails with an assert say, under "Likely cause", which mistake it is?"""
    name, session, explain = released
    problems = []
    for entry in catalogue(name):
        caught = False
        for grade_id in session.cells:
            if entry not in session.entries_for(grade_id, [entry]):
                continue
            try:
                session.run(grade_id, entry.replaces, explain=explain)
            except AssertionError as exc:
                caught = True
                if entry.diagnosis not in str(exc):
                    problems.append(f"{grade_id} fails {entry.diagnosis[:60]!r} without naming it: "
                                    f"{str(exc)[-200:]!r}")
            except Exception:  # noqa: BLE001 - an error of the mistake's own making shows as itself
                caught = True
        if not caught:
            problems.append(f"no visible test fails {entry.diagnosis[:80]!r}")
    assert not problems, "\n".join(problems)


def test_right_answers_pass_and_unknown_errors_get_no_diagnosis(released):
    """Do the solution's functions pass every visible test with the real explainer, and does a
    wrong answer that is no catalogued mistake fail without a "Likely cause"?"""
    name, session, explain = released
    for grade_id in session.cells:
        session.run(grade_id, {}, explain=explain)  # raises if a visible test fails
    wrong = {}
    for entry in catalogue(name):
        for function_name in entry.names:
            if function_name not in wrong:
                wrong[function_name] = _off_by_a_little(session.namespace[function_name])
    failed = 0
    for grade_id in session.cells:
        for function_name, function in wrong.items():
            if function_name not in session.reaches(grade_id):
                continue
            try:
                session.run(grade_id, {function_name: function}, explain=explain)
            except AssertionError as exc:
                failed += 1
                assert LIKELY not in str(exc), (grade_id, function_name, str(exc))
            except Exception:  # noqa: BLE001 - a perturbed return value may break the cell
                failed += 1
    assert failed, "the perturbed functions should fail some visible test"


def _off_by_a_little(function):
    """The function with every number it returns scaled by 1.01: wrong, but no known mistake."""
    def scale(value):
        if isinstance(value, tuple):
            return tuple(scale(v) for v in value)
        if isinstance(value, dict):
            return {k: scale(v) for k, v in value.items()}
        if isinstance(value, (int, float, np.ndarray, np.generic)) and not isinstance(value, bool):
            return value * 1.01 + 0.01
        try:
            import torch

            if isinstance(value, torch.Tensor):
                return value * 1.01 + 0.01
        except ImportError:
            pass
        return value

    def wrapped(*args, **kwargs):
        return scale(function(*args, **kwargs))

    return wrapped


def test_released_data_is_numbers_and_words_only():
    """Does mistakes.json hold only numbers, diagnoses and test ids (no code, no inputs), for
    visible tests that exist in the released notebook?"""
    for name in NAMES:
        data = json.loads((COURSE_ROOT / "course" / "assignments" / name / DATA_NAME).read_text())
        assert data["assignment"] == name and data["tests"]
        released = nbformat.read(COURSE_ROOT / "course" / "assignments" / name / f"{name}.ipynb", 4)
        graded = {c.metadata.get("nbgrader", {}).get("grade_id") for c in released.cells}
        for grade_id, entries in data["tests"].items():
            assert grade_id in graded
            for entry in entries:
                assert set(entry) == {"diagnosis", "values", "first_wrong"}
                assert isinstance(entry["first_wrong"], int) and 0 <= entry["first_wrong"] < len(entry["values"])
                assert "def " not in entry["diagnosis"] and "import" not in entry["diagnosis"]
                for value in entry["values"]:
                    _numbers_only(value)


def _numbers_only(value):
    if "type" in value:
        assert set(value) == {"type"}
        return
    if "items" in value:
        assert all(isinstance(k, str) for k in value.get("keys", []))
        for item in value["items"]:
            _numbers_only(item)
        return
    assert set(value) == {"shape", "data"}
    assert all(isinstance(x, float) for x in value["data"])
