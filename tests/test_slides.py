"""Slides (``autograder.publish.slides.export_slides``): reveal.js decks that work offline.

The browser half (a deck opened in Chromium, stepped through, no request leaving the
machine) is ``tests/browser/test_browser_slides.py``.
"""
from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from autograder.publish.slides import export_slides
from lecture_files import write_lecture

PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                     "1f15c4890000000d49444154789c6360f80f000001010000ffff03000000"
                                     "0000000049454e44ae426082")).decode()


class References(HTMLParser):
    """Every URL a page loads: src/href attributes, CSS url(...) and @import, JS imports."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name) and not (tag == "a" and name == "href"):
                self.urls.append(attrs[name])
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "style":
            data = re.sub(r"/\*.*?\*/", "", data, flags=re.S)  # comments are not requests
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)
            self.urls += re.findall(r"@import\s+['\"]([^'\"]+)", data)
        elif self._in == "script":
            self.urls += re.findall(r"""\bimport\s*(?:[\w{}\s,*]+from\s*)?['"]([^'"]+)['"]""", data)
            self.urls += re.findall(r"""\bsrc\s*=\s*['"]([^'"]+)['"]""", data)


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


def code(source, slide_type="-", tags=(), outputs=()):
    cell = nbformat.v4.new_code_cell(source, outputs=list(outputs))
    cell.metadata["slideshow"] = {"slide_type": slide_type}
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def markdown(source, slide_type="slide", tags=()):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["slideshow"] = {"slide_type": slide_type}
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


@pytest.fixture(scope="module")
def executed_outputs_deck(tmp_path_factory):
    """Two lectures with outputs already in place (as a live session saves them), not executed."""
    tmp_path = tmp_path_factory.mktemp("deck")
    widget_and_figure = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "image/png": PNG, "text/plain": "<interactive figure: lr>"})
    widget_only = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "def", "version_major": 2, "version_minor": 0},
        "text/plain": "IntSlider(value=0)"})
    lectures = tmp_path / "lectures"
    write_lecture(lectures / "01_first.ipynb", [
        markdown("# Adam\n$m_t = \\beta_1 m_{t-1} + (1 - \\beta_1) g_t$"),
        code("helper_only_on_screen()", tags=["hide-input"], outputs=[widget_and_figure]),
        code("slider()", slide_type="subslide", outputs=[widget_only]),
        markdown("Speaker notes", slide_type="notes"),
        markdown("**Exercise.** What does Adam do at step one?", tags=["exercise"]),
        markdown("<details><summary>Answer</summary>The folded answer text</details>", tags=["answer"]),
    ])
    write_lecture(lectures / "02_second.ipynb", [markdown("# Second lecture")])
    nb = nbformat.read(lectures / "01_first.ipynb", as_version=4)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}
    nbformat.write(nb, lectures / "01_first.ipynb")
    out = tmp_path / "slides"
    return export_slides(lectures, out, execute=False), out


def test_one_deck_per_lecture_and_an_index(executed_outputs_deck):
    """Is there a deck per lecture, in lecture order, and an index linking them?"""
    written, out = executed_outputs_deck
    assert [p.name for p in written] == ["01_first.slides.html", "02_second.slides.html"]
    index = (out / "index.html").read_text()
    assert 'href="01_first.slides.html"' in index and 'href="02_second.slides.html"' in index


def test_decks_load_nothing_from_the_network(executed_outputs_deck):
    """Does every script, style sheet, font and image come from the deck's folder (or inline)?"""
    written, out = executed_outputs_deck
    for deck in written:
        html = deck.read_text()
        urls = references(html)
        remote = [u for u in urls if re.match(r"^(https?:)?//", u)]
        assert remote == [], f"{deck.name} loads from the network: {remote}"
        assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
        local = [u for u in urls if not u.startswith(("data:", "#", "blob:"))]
        assert any("reveal.js" in u for u in local) and any("MathJax.js" in u for u in local)
        for url in local:
            target = deck.parent / unquote(urlparse(url).path)
            assert target.is_file(), f"{deck.name} refers to {url}, which is not in {out}"


def test_reveal_and_mathjax_are_copied_with_their_licences(executed_outputs_deck):
    """Are the local copies complete enough to run: reveal.js, its notes plugin, MathJax, licences?"""
    _, out = executed_outputs_deck
    assets = out / "assets"
    for name in ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css", "reveal.js/dist/theme/white.css",
                 "reveal.js/plugin/notes/notes.js", "reveal.js/LICENSE", "mathjax/MathJax.js",
                 "mathjax/config/TeX-AMS-MML_HTMLorMML-full.js", "mathjax/LICENSE"):
        assert (assets / name).is_file(), name
    assert "reveal.js" in (assets / "reveal.js/dist/reveal.js").read_text()[:200]


def test_widgets_leave_their_figure_and_nothing_live(executed_outputs_deck):
    """Is a widget's PNG kept, a bare widget dropped, and no widget renderer loaded?"""
    written, _ = executed_outputs_deck
    html = written[0].read_text()
    assert "application/vnd.jupyter.widget-view+json" not in html
    assert "application/vnd.jupyter.widget-state+json" not in html
    assert "IntSlider(value=0)" not in html
    assert html.count('src="data:image/png;base64,') == 1


def test_exercises_are_in_the_slides_and_their_answers_are_not(executed_outputs_deck):
    """Does an exercise show on its slide while its answer (tagged 'answer') is left out?"""
    written, _ = executed_outputs_deck
    html = written[0].read_text()
    assert "What does Adam do at step one?" in html
    assert "The folded answer text" not in html


def test_hidden_inputs_and_notes(executed_outputs_deck):
    """Is a hide-input cell's code left out, and do notes go to the speaker view?"""
    written, _ = executed_outputs_deck
    html = written[0].read_text()
    assert "helper_only_on_screen" not in html
    assert re.search(r'<aside class="notes">.*Speaker notes', html, re.S)
    assert "<section" in html and "Reveal.initialize" in html


@pytest.mark.slow
def test_export_executes_lectures_with_static_figures(tmp_path):
    """Executed headless, does an interactive figure appear as its static PNG, with no widget?"""
    lectures = tmp_path / "lectures"
    write_lecture(lectures / "01_live.ipynb", [
        markdown("# Paths"),
        code("import os\nprint('static', os.environ.get('COURSE_STATIC'))"),
        code("import ipywidgets as w\nfrom course.widgets import interactive_figure\n"
             "def build(fig, a):\n    ax = fig.add_subplot()\n    line, = ax.plot([0, 1], [0, a])\n"
             "    return lambda a: line.set_data([0, 1], [0, a])\n"
             "interactive_figure(build, {'a': w.FloatSlider(1.0, min=0.0, max=2.0, description='a')})"),
    ])
    written = export_slides(lectures, tmp_path / "slides")
    html = written[0].read_text()
    assert "static 1" in html
    assert html.count('src="data:image/png;base64,') == 1
    assert "widget-view" not in html


def test_each_lecture_also_becomes_a_page_that_loads_nothing_from_the_network(executed_outputs_deck):
    """Is there an HTML page per lecture (answers included), linked from the index, with only local scripts?"""
    written, out = executed_outputs_deck
    page = out / "01_first.html"
    html = page.read_text()
    assert "The folded answer text" in html  # pages are for reading: the answers stay
    urls = references(html)
    assert [u for u in urls if re.match(r"^(https?:)?//", u)] == []
    assert any("MathJax.js" in u for u in urls)
    assert 'href="01_first.html"' in (out / "index.html").read_text()


def test_a_current_rendering_is_used_instead_of_executing_again(tmp_path):
    """When a lecture's rendering is current, do the slides show its outputs without running the lecture?"""
    from autograder.publish.render import fingerprint, rendering_of

    lectures = tmp_path / "lectures"
    source = write_lecture(lectures / "01_rendered.ipynb", [code("raise SystemExit('never executed')")])
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="output of the rendering")]
    nb.metadata["course"] = {"rendered": {"fingerprint": fingerprint(nbformat.read(source, as_version=4))}}
    rendering_of(source).parent.mkdir()
    nbformat.write(nb, rendering_of(source))
    written = export_slides(lectures, tmp_path / "slides")
    assert "output of the rendering" in written[0].read_text()
