"""Lecture slides and pages: every lecture as a reveal.js deck and an HTML page, both offline.

``export_slides(lectures_dir, out_dir)`` takes each lecture's rendering
(``lectures/rendered/<lecture>.ipynb``, see :mod:`autograder.publish.render`) when it is current, and
otherwise executes the lecture headless with ``COURSE_STATIC=1`` so that interactive widgets
leave their static figure. It writes ``out_dir/<lecture>.slides.html`` (the deck, with speaker
notes in reveal's speaker view, key S: the notes plugin is copied beside it; a slide's notes are
its own even where a notes cell follows a fragment) and ``out_dir/<lecture>.html`` (the whole
lecture as a page to read, answers included) beside ``out_dir/assets/``, a local copy of what they load:

- reveal.js from the Python package ``sphinx-revealjs`` (MIT; its ``_static/revealjs``),
- MathJax 2 from ``jupyter-server-mathjax`` (Apache-2.0; the trimmed copy Jupyter serves, STIX fonts).

Nothing is loaded from a CDN: no jQuery, RequireJS, Mermaid or widget renderer either (the
exported decks carry no live widgets). Cells keep their ``slideshow.slide_type``; cells tagged
``hide-input`` show only their output, cells tagged ``remove-cell`` or ``answer`` (the folded
answers to exercises: students try first) are left out. An
``index.html`` links the decks. Open a deck from the file system or any static web server.
"""
from __future__ import annotations

import html
import importlib.util
import os
import shutil
from pathlib import Path

import nbformat

__all__ = ["export_slides", "asset_sources", "SLIDE_REMOVED_TAGS"]

#: cells with one of these tags are not in the slides: hidden helpers, and the answers to exercises
SLIDE_REMOVED_TAGS = ("remove-cell", "answer")

ASSETS = "assets"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

#: MathJax from the local copy, for the deck and the reading page alike
MATHJAX_BLOCK = r"""{%- block html_head_js_mathjax -%}
<style>/* the hidden MathML copy for screen readers: MathJax's styles point its script and double-struck
letters at TeX fonts the trimmed copy lacks; it is never seen, so it takes the page's font */
.MJX_Assistive_MathML, .MJX_Assistive_MathML * { font-family: serif !important; }</style>
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  tex2jax: {inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]],
            processEscapes: true, processEnvironments: true},
  "HTML-CSS": {availableFonts: [], imageFont: null, preferredFont: null, webFont: "STIX-Web",
               linebreaks: {automatic: true}},
  displayAlign: "center",
  messageStyle: "none",
  showMathMenu: false
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}"""

#: the nbconvert reveal template, with every CDN script replaced by the local copies
TEMPLATE = r"""{%- extends 'index.html.j2' -%}

{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}

""" + MATHJAX_BLOCK + r"""

{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
// A notes cell after a fragment lands inside the fragment, where the speaker view shows it only
// while that fragment is the current one: the notes belong to the slide.
document.querySelectorAll(".reveal .slides section .fragment aside.notes").forEach(function (notes) {
  notes.closest("section").appendChild(notes);
});
Reveal.initialize({
  controls: true,
  progress: true,
  history: true,
  hash: true,
  transition: "{{ resources.reveal.transition | default('slide', true) }}",
  slideNumber: "{{ resources.reveal.number | default('c/t', true) }}",
  plugins: [RevealNotes],
  width: {{ resources.reveal.width | default('1280', true) }},
  height: {{ resources.reveal.height | default('800', true) }},
});
Reveal.on('slidechanged', function () {
  if (window.MathJax && MathJax.Hub) {
    MathJax.Hub.Queue(["Rerender", MathJax.Hub, Reveal.getCurrentSlide()]);
  }
});
</script>
{% endblock footer_js %}
"""

#: the nbconvert lab template for a reading page, with every CDN script replaced by the local copies
PAGE_TEMPLATE = r"""{%- extends 'index.html.j2' -%}

{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}

""" + MATHJAX_BLOCK + r"""
"""

INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Lectures</title>
<style>body {{ font-family: sans-serif; max-width: 40em; margin: 3em auto; }} li {{ margin: .4em 0; }}</style>
</head><body><h1>Lectures</h1><ul>
{items}
</ul><p>Slides: arrow keys move, <kbd>S</kbd> opens the speaker notes, <kbd>Esc</kbd> the overview.
Pages: the whole lecture to read, with the answers to the exercises.</p>
</body></html>
"""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"course slides needs the Python package {name!r} "
                           f"(pip install -e . installs it); it ships the slides' scripts")
    return Path(next(iter(spec.submodule_search_locations)))


def asset_sources() -> dict[str, Path]:
    """Where the local copies come from: ``{"reveal.js": ..., "mathjax": ...}``."""
    return {
        "reveal.js": _package_dir("sphinx_revealjs") / "_static" / "revealjs",
        "mathjax": _package_dir("jupyter_server_mathjax") / "static",
    }


def _copy_assets(out_dir: Path) -> Path:
    """Copy the files the decks load into ``out_dir/assets`` (only those)."""
    sources, target = asset_sources(), out_dir / ASSETS
    skip = shutil.ignore_patterns("*.map", "*.esm.js")
    reveal = target / "reveal.js"
    shutil.copytree(sources["reveal.js"] / "dist", reveal / "dist", ignore=skip, dirs_exist_ok=True)
    shutil.copytree(sources["reveal.js"] / "plugin" / "notes", reveal / "plugin" / "notes", ignore=skip,
                    dirs_exist_ok=True)
    shutil.copy2(sources["reveal.js"] / "LICENSE", reveal / "LICENSE")
    mathjax = target / "mathjax"
    mathjax.mkdir(parents=True, exist_ok=True)
    for name in ("MathJax.js", "LICENSE"):
        shutil.copy2(sources["mathjax"] / name, mathjax / name)
    for part in ("config", "extensions", "fonts", "jax/input", "jax/element", "jax/output/HTML-CSS"):
        shutil.copytree(sources["mathjax"] / part, mathjax / part, dirs_exist_ok=True)
    return target


def _execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int, quick: bool) -> None:
    """Run the notebook headless in ``cwd``; widgets fall back to their static figures."""
    from nbclient import NotebookClient

    env = {**os.environ, "COURSE_STATIC": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    if quick:
        env["COURSE_QUICK"] = "1"
    NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                   resources={"metadata": {"path": str(cwd)}}).execute(env=env)  # the kernel's environment


def _drop_live_widgets(nb: nbformat.NotebookNode) -> None:
    """Remove widget views (nothing can render them offline); keep any figure they carry."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                data.pop(WIDGET_VIEW)
                if set(data) <= {"text/plain"}:
                    continue  # only the widget's repr: nothing to show on a slide
            kept.append(output)
        cell["outputs"] = kept


def _exporter():
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = SlidesExporter(
        raw_template=TEMPLATE,
        reveal_url_prefix=f"{ASSETS}/reveal.js",
        reveal_theme="white",
        mathjax_url=f"{ASSETS}/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(
        remove_input_tags={"hide-input"}, remove_cell_tags=set(SLIDE_REMOVED_TAGS), enabled=True), enabled=True)
    return exporter


def _page_exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(raw_template=PAGE_TEMPLATE,
                        mathjax_url=f"{ASSETS}/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe",
                        exclude_input_prompt=True, exclude_output_prompt=True)


def _current_rendering(lecture: Path) -> nbformat.NotebookNode | None:
    from .render import fingerprint, rendering_of

    path = rendering_of(lecture)
    if not path.is_file():
        return None
    rendered = nbformat.read(path, as_version=4)
    current = rendered.metadata.get("course", {}).get("rendered", {}).get("fingerprint")
    return rendered if current == fingerprint(nbformat.read(lecture, as_version=4)) else None


def export_slides(lectures_dir, out_dir, *, execute: bool = True, quick: bool = False,
                  timeout: int = 900) -> list[Path]:
    """Export every ``*.ipynb`` of ``lectures_dir`` to a deck and a page in ``out_dir``; return the decks.

    A lecture whose rendering is current (``quick=False``) is taken as rendered: the numbers in
    the slides are the rendering's. Otherwise the lecture is executed (unless ``execute=False``:
    its saved outputs are used) in its own folder with ``COURSE_STATIC=1``; ``quick=True`` also
    sets ``COURSE_QUICK=1`` (heavy cells at their smallest size). A cell that raises stops the
    export with nbclient's error.
    """
    lectures_dir, out_dir = Path(lectures_dir), Path(out_dir)
    lectures = sorted(p for p in lectures_dir.glob("*.ipynb") if not p.name.startswith("."))
    if not lectures:
        raise FileNotFoundError(f"no lecture notebooks in {lectures_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    _copy_assets(out_dir)
    exporter, pages = _exporter(), _page_exporter()
    written = []
    for lecture in lectures:
        nb = None if quick else _current_rendering(lecture)
        if nb is None:
            nb = nbformat.read(lecture, as_version=4)
            if execute:
                _execute(nb, lecture.parent, timeout, quick)
        _drop_live_widgets(nb)
        resources = {"metadata": {"name": lecture.stem}}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        path = out_dir / f"{lecture.stem}.slides.html"
        path.write_text(body, encoding="utf-8")
        page, _ = pages.from_notebook_node(nb, resources=resources)
        (out_dir / f"{lecture.stem}.html").write_text(page, encoding="utf-8")
        written.append(path)
    items = "\n".join(f'<li>{html.escape(p.stem.removesuffix(".slides"))}: <a href="{html.escape(p.name)}">slides</a>'
                      f' · <a href="{html.escape(p.name.replace(".slides.html", ".html"))}">page</a></li>'
                      for p in written)
    (out_dir / "index.html").write_text(INDEX.format(items=items), encoding="utf-8")
    return written
