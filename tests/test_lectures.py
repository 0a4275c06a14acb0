"""Do the lectures run headless, fast, with a figure for every widget, committed clean?

Every ``course/lectures/*.ipynb`` is executed with nbclient the way CI and the HTML/slides
exports run it: ``COURSE_STATIC=1`` (widgets draw their static figure) and
``COURSE_QUICK=1`` (heavy cells take their smallest size).
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "course" / "lectures").glob("*.ipynb"))
IDS = [p.stem for p in LECTURES]
MAX_SECONDS = 60  # per lecture, on the 2-core CPU of the course machine
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
#: a cell whose code calls one of these shows an interactive figure
WIDGET_CALL = re.compile(r"\b(interactive_figure|\w+_explorer)\(")


def _execute(path: Path) -> tuple[nbformat.NotebookNode, float]:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - started


@pytest.fixture(scope="module")
def executed(request):
    """Each lecture executed once per test session: ``{stem: (notebook, seconds)}``."""
    return {}


@pytest.fixture
def headless_env(monkeypatch):
    monkeypatch.setenv("COURSE_STATIC", "1")
    monkeypatch.setenv("COURSE_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def _run(executed, lecture):
    if lecture.stem not in executed:
        executed[lecture.stem] = _execute(lecture)
    return executed[lecture.stem]


def test_there_are_lectures():
    """Is the glob finding the lecture notebooks at all?"""
    assert {"01_metrics", "02_optimizers", "03_normalization"} <= set(IDS)


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_committed_without_outputs(lecture):
    """Is the lecture saved with no outputs and no execution counts?"""
    nb = nbformat.read(lecture, as_version=4)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert dirty == [], f"{lecture.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_every_cell_has_slide_metadata(lecture):
    """Does every cell say how it appears in the slides (slideshow.slide_type)?"""
    nb = nbformat.read(lecture, as_version=4)
    missing = [i for i, cell in enumerate(nb.cells)
               if cell.metadata.get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]
    assert missing == [], f"{lecture.name}: cells {missing} lack slideshow.slide_type"
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide"


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_lectures_import_helpers_and_never_define_them(lecture):
    """Do lecture cells import the course library rather than defining functions or classes?"""
    nb = nbformat.read(lecture, as_version=4)
    source = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "from course" in source
    assert not re.search(r"^\s*(def|class) ", source, re.MULTILINE), \
        f"{lecture.name} defines a helper: move it to the course library"
    assert "autograder" not in source


@pytest.mark.slow
@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_lecture_executes_headless(lecture, executed, headless_env):
    """Does the lecture run top to bottom without an error, within a minute on this CPU?"""
    nb, seconds = _run(executed, lecture)
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]
    assert errors == []
    print(f"{lecture.stem}: {seconds:.1f} s")
    assert seconds < MAX_SECONDS, f"{lecture.name} took {seconds:.0f} s (limit {MAX_SECONDS} s)"


@pytest.mark.slow
@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_widget_cells_show_the_static_figure(lecture, executed, headless_env):
    """Headless, does every widget cell leave a PNG (the static fallback) and no live widget?"""
    nb, _ = _run(executed, lecture)
    widget_cells = [cell for cell in nb.cells if cell.cell_type == "code" and WIDGET_CALL.search(cell.source)]
    for cell in widget_cells:
        kinds = [set(out.get("data", {})) for out in cell.outputs]
        assert any("image/png" in k for k in kinds), f"no figure in: {cell.source[:80]!r}"
        assert not any("application/vnd.jupyter.widget-view+json" in k for k in kinds)
