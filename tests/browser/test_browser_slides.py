"""Do the exported slides work offline in a browser?

The optimizers lecture (the one with live widgets) is exported with ``export_slides`` (in a
subprocess: it executes the lecture headless; ``quick=True`` keeps its training cell short),
opened from ``file://`` in Chromium and stepped through with the arrow keys (right, and down
into a column of subslides). Every request the page makes is recorded: none may leave the
machine. Slides are screenshot on the way, the first one with a figure among them. Then, on a
slide in the middle of the deck, the presenter's key S opens reveal's speaker view (the notes
plugin copied beside the deck), which must show that slide's speaker notes from the notebook.
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


def _plain_snippet(markdown: str, words: int = 8) -> str | None:
    """A run of ``words`` plain words from a notes cell (no markup, math or code in it), as the
    browser shows it once the markdown is rendered."""
    import re

    text = re.sub(r"\$[^$]*\$|`[^`]*`|\*\*[^*]*\*\*|\([^)]*\)", "|", markdown)
    for run in re.split(r"[^A-Za-z ,;']+", text):
        tokens = run.split()
        if len(tokens) >= words:
            return " ".join(tokens[:words])
    return None


def test_speaker_view_shows_the_slides_notes_offline(chromium, deck, screenshot, report):
    """Does the presenter's key S open reveal's speaker view (from the deck's own copy of the
    notes plugin, nothing off the machine) and show there the speaker notes the lecture's
    notebook gives that slide, while the audience's slide hides them?"""
    import nbformat

    lecture = next(p for p in LECTURES if p.stem == deck.name.removesuffix(".slides.html"))
    cells = nbformat.read(lecture, as_version=4).cells
    kind = lambda cell: cell.metadata.get("slideshow", {}).get("slide_type")  # noqa: E731
    notes = [(cell.source, kind(cells[i - 1]) == "fragment") for i, cell in enumerate(cells)
             if i and cell.cell_type == "markdown" and kind(cell) == "notes"]
    snippets = [(_plain_snippet(text), after_fragment) for text, after_fragment in notes if _plain_snippet(text)]
    assert len(snippets) >= 3, f"{lecture.name} has {len(notes)} notes cells, too few with plain text"
    # the notes of a slide in the middle of the deck, and, where there is one, notes that follow a
    # fragment (nbconvert puts them inside it; they must show from the slide's start)
    after = [text for text, after_fragment in snippets if after_fragment]
    snippet = (after or [text for text, _ in snippets])[len(after or snippets) // 2]

    requests, problems = [], []
    record = lambda request: requests.append(request.url)  # noqa: E731 - the deck's and the speaker view's
    off = lambda url: not url.startswith(LOCAL_SCHEMES)  # noqa: E731
    abort = lambda route: route.abort()  # noqa: E731
    chromium.on("request", record)
    chromium.route(off, abort)  # the speaker view is a new page of the context: it is covered too
    page = chromium.new_page()
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    speaker = None
    try:
        page.goto(deck.as_uri())
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
        normalized = lambda text: " ".join(text.split())  # noqa: E731
        found = page.evaluate("""snippet => {
            const squash = text => text.split(/\\s+/).filter(Boolean).join(' ');
            const aside = Array.from(document.querySelectorAll('.reveal .slides section aside.notes'))
                .find(a => squash(a.textContent).includes(snippet));
            if (!aside) return null;
            Reveal.slide(...Object.values(Reveal.getIndices(aside.closest('section'))));
            return Reveal.getIndices();
        }""", snippet)
        assert found is not None, f"no slide of the deck carries the notes {snippet!r}"
        assert not page.locator("aside.notes").first.is_visible(), "the audience sees the speaker notes"

        with chromium.expect_page(timeout=15_000) as opened:
            page.keyboard.press("s")
        speaker = opened.value
        speaker.wait_for_function(
            "() => { const n = document.querySelector('.speaker-controls-notes .value');"
            " return n && n.textContent.trim().length > 0; }", timeout=30_000)
        shown = normalized(speaker.locator(".speaker-controls-notes .value").inner_text())
        speaker.wait_for_timeout(500)  # the current and upcoming slides' frames
        screenshot(speaker, f"speaker-view-{lecture.stem}")
        report(f"speaker view of {deck.name} at slide {found}: {len(shown)} characters of notes")

        assert snippet in shown, f"the speaker view shows {shown[:200]!r}, not the notes {snippet!r}"
        assert speaker.locator(".speaker-controls-time").count() == 1  # reveal's speaker view, with its clock
        off_machine = [url for url in requests if not url.startswith(LOCAL_SCHEMES)]
        assert off_machine == [], f"requests left the machine: {off_machine}"
        assert problems == [], problems
    finally:
        if speaker is not None:
            speaker.close()
        page.close()
        chromium.unroute(off, abort)
        chromium.remove_listener("request", record)
