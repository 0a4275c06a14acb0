"""Can an instructor present a lecture live from JupyterLab with RISE (``jupyterlab-rise``)?

The RISE extension serves a notebook as a reveal.js slideshow at ``/rise/<path>``, the page
its toolbar button opens. The test opens the first lecture there, checks that the slides and
their formulas render, steps on with the arrow key and screenshots what it sees, with no
error in the page's console.

jupyterlab-rise is not a dependency: 0.43.1 (the newest) requires ``jupyterlab-mathjax3``,
a JupyterLab 3 extension, and even installed without it, its slideshow page fails to load
the other installed extensions (the widget manager, nbgrader, notebook: "Shared module ...
doesn't exist in shared scope", then "Maximum call stack size exceeded"), so widgets do not
render in it. Instructors present with ``course slides`` (static reveal.js decks) or live in
JupyterLab's own notebook view. Install it by hand to run this test.
"""
from __future__ import annotations

import importlib.util

import pytest

from course_paths import LECTURES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(importlib.util.find_spec("jupyterlab_rise") is None,
                       reason="jupyterlab-rise is not installed (live presenting is optional)"),
    pytest.mark.skipif(not LECTURES, reason="no lecture in course/lectures yet"),
]


def test_lecture_presents_as_a_live_slideshow(lab, page, screenshot):
    """Does /rise/<lecture> show reveal.js slides with typeset math, moving on ArrowRight?"""
    lecture = LECTURES[0]
    relative = f"course/lectures/{lecture.name}"
    problems = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    try:
        page.goto(lab.url(f"rise/{relative}"))
        page.wait_for_selector(".reveal .slides section.present", timeout=90_000)
        page.wait_for_selector(".reveal .slides mjx-container, .reveal .slides .MathJax",
                               state="attached", timeout=30_000)  # formulas typeset (on any slide)
        screenshot(page, f"rise-{lecture.stem}-first")
        first = page.evaluate("location.hash")
        for _ in range(3):
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(400)
        assert page.evaluate("location.hash") != first, "ArrowRight did not move the slideshow"
        screenshot(page, f"rise-{lecture.stem}-after-3-steps")
        assert page.locator(".reveal .slides section").count() > 3
        assert problems == [], f"errors in the slideshow page: {problems}"
    finally:
        lab.shutdown_kernels(relative)
