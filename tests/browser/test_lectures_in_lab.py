"""Does every lecture run in JupyterLab, as a student runs it: Run > Run All Cells?"""
from __future__ import annotations

import pytest

import lab_page
from course_paths import LECTURES

pytestmark = pytest.mark.browser

#: what ipywidgets shows in place of a widget it could not render
WIDGET_FAILURES = ("Error displaying widget", "Failed to load model class")


@pytest.mark.parametrize("lecture", LECTURES, ids=[p.stem for p in LECTURES])
def test_lecture_runs_without_errors(lecture_runs, screenshot, report, lecture):
    """Does Run All execute every code cell, with no error output and every widget rendered?"""
    run = lecture_runs(lecture, keep=True)  # every lecture has live figures: test_widgets_in_lab drives them
    try:
        screenshot(run.page, f"lecture-{lecture.stem}-after-run-all")
        report(f"lecture {lecture.stem}: Run All took {run.seconds:.1f} s in JupyterLab")
        assert lab_page.errors(run.cells) == [], f"{lecture.name} shows errors in JupyterLab"
        assert lab_page.not_executed(run.cells) == [], f"{lecture.name}: code cells left unexecuted"
        broken = [c["index"] for c in run.cells for out in c["outputs"]
                  if any(mark in out["text"] for mark in WIDGET_FAILURES)]
        assert broken == [], f"{lecture.name}: widgets not rendered in cells {broken}"
    finally:
        run.close()
