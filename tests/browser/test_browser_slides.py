"""Do the exported slides work offline in a browser?

The optimizers lecture (the one with live widgets) is exported with ``export_slides`` (in a
subprocess: it executes the lecture headless; ``quick=True`` keeps its training cell short),
opened from ``file://`` in Chromium and stepped through with the arrow keys (right, and down
into a column of subslides). Every request the page makes is recorded: none may leave the
machine. Slides are screenshot on the way, the first one with a figure among them.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from course_paths import LECTURES, OPTIMIZERS_LECTURE, REPO

pytestmark = pytest.mark.browser

#: MathJax 2 probes web-font support by loading a font from about:blank, which Chromium refuses
MATHJAX_FONT_PROBE = "about:blank"
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


@pytest.fixture(scope="module")
def deck(chromium_path, tmp_path_factory):
    """``<lecture>.slides.html`` of the optimizers lecture (or the first lecture), freshly exported."""
    lecture = OPTIMIZERS_LECTURE or (LECTURES[0] if LECTURES else None)
    if lecture is None:
        pytest.skip("no lecture in course/lectures yet")
    lectures = tmp_path_factory.mktemp("slides-src")
    shutil.copy2(lecture, lectures / lecture.name)
    out = tmp_path_factory.mktemp("slides")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from autograder.publish.slides import export_slides; "
         "print(*export_slides(sys.argv[1], sys.argv[2], quick=True), sep='\\n')", str(lectures), str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out / f"{lecture.stem}.slides.html"


def test_deck_steps_through_offline(chromium, deck, screenshot, report):
    """Does the deck load, typeset its math and move on ArrowRight with no request off the machine?"""
    page = chromium.new_page()
    requests, problems = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}")
            if request.url != MATHJAX_FONT_PROBE else None)
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and MATHJAX_FONT_PROBE not in message.text
            and not message.text.startswith("Failed to load resource") else None)  # see requestfailed
    page.route(lambda url: not url.startswith(LOCAL_SCHEMES), lambda route: route.abort())
    try:
        page.goto(deck.as_uri())
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
        page.wait_for_function(
            "() => window.MathJax && MathJax.Hub && MathJax.isReady"
            " && MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0", timeout=60_000)
        name = deck.name.removesuffix(".slides.html")
        total = page.evaluate("Reveal.getTotalSlides()")
        screenshot(page, f"slides-{name}-01")
        steps, shots = 0, 0
        while steps < 300:  # as a presenter: ArrowRight, ArrowDown into a column of subslides
            key = page.evaluate("""() => Reveal.availableFragments().next ? 'ArrowRight'
                : Reveal.availableRoutes().down ? 'ArrowDown'
                : Reveal.availableRoutes().right ? 'ArrowRight' : null""")
            if key is None:
                break
            before = page.evaluate("JSON.stringify(Reveal.getIndices())")
            page.keyboard.press(key)
            page.wait_for_function("before => JSON.stringify(Reveal.getIndices()) !== before", arg=before,
                                   timeout=5_000)
            steps += 1
            if steps % 4 == 0 and shots < 8:
                shots += 1
                page.wait_for_timeout(400)  # the slide transition
                screenshot(page, f"slides-{name}-step{steps:03d}")
        last = page.evaluate("[Reveal.getIndices().h, Reveal.getHorizontalSlides().length]")
        seen = page.evaluate("Reveal.getSlidePastCount() + 1")
        screenshot(page, f"slides-{name}-last")

        # the first slide with a figure: a widget's static fallback in the optimizers lecture
        figure_at = page.evaluate("""() => {
            const img = document.querySelector('.reveal .slides section img');
            if (!img) return null;
            Reveal.slide(...Object.values(Reveal.getIndices(img.closest('section'))));
            return Reveal.getIndices();
        }""")
        if figure_at is not None:
            page.wait_for_timeout(600)
            screenshot(page, f"slides-{name}-figure")
        report(f"slides {deck.name}: {total} slides, {steps} key presses (ArrowRight/ArrowDown), "
               f"{len(requests)} requests, all local")

        off_machine = [url for url in requests if not url.startswith(LOCAL_SCHEMES)]
        assert off_machine == [], f"requests left the machine: {off_machine}"
        assert total > 3 and last[0] == last[1] - 1, f"ArrowRight stopped at slide {last[0]} of {last[1]}"
        assert seen == total, f"stepped through {seen} of {total} slides"
        assert figure_at is not None, "no slide shows a figure (the widgets' static fallback)"
        assert page.evaluate("() => Array.from(Reveal.getCurrentSlide().querySelectorAll('img'))"
                             ".some(img => img.complete && img.naturalWidth > 0)")
        assert page.locator(".MathJax").count() > 0, "no formula typeset"
        assert page.get_by_text("Math Processing Error").count() == 0
        assert problems == [], problems
    finally:
        page.close()
