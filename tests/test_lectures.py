"""Do the lectures hold what LECTURES.md asks, run headless at their CPU size, and show what they claim?

Structure (fast): no outputs committed, slide metadata on every cell, speaker notes on every
slide, a notation box, at least six exercises each followed by its folded answer, a References
section, helpers imported from the library and never defined.

Execution (slow): every ``course/lectures/*.ipynb`` is executed with nbclient at its **CPU
size** (``COURSE_SIZE=cpu``, the run a student gets on a laptop) with ``COURSE_STATIC=1``
(widgets draw their static figure) and ``COURSE_RECORD`` set, so that every comparison and
claim the lecture makes through :mod:`course.comparisons` is written down with its per-seed
numbers. The tests then check each claim from those raw numbers (the margin between the means
exceeds the seed-to-seed range of either side), and that the lecture made every claim listed in
:data:`EXPECTED_CLAIMS`: its text rests on them. How long each lecture takes is printed here
and measured by ``benchmarks.training`` (target: under 60 s on a 2-core CPU).
"""
from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "course" / "lectures").glob("*.ipynb"))
IDS = [p.stem for p in LECTURES]
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
MIN_EXERCISES = 6
#: a cell whose code calls one of these shows an interactive figure
WIDGET_CALL = re.compile(r"\b(interactive_figure|\w+_explorer)\(")

#: The claims each lecture's text makes, as ``(better, worse, metric)`` of a comparison: the
#: lecture must make each through ``Comparison.claim`` and each must hold at CPU size.
EXPECTED_CLAIMS: dict[str, list[tuple[str, str, str]]] = {
    "01_metrics": [
        ("CNN", "MLP", "test_acc"),
        ("MLP, end of training", "MLP, lowest val loss", "test_acc"),
        ("MLP, lowest val loss", "MLP, end of training", "test_loss"),
        ("CNN, lowest val loss", "CNN, end of training", "ece"),
    ],
    "02_optimizers": [
        ("momentum", "SGD", "test_acc"),
        ("Adam", "SGD", "test_acc"),
        ("momentum", "SGD", "test_loss"),
        ("one-cycle (warm-up)", "cosine from the peak", "test_acc"),
        ("one-cycle (warm-up)", "cosine from the peak", "test_loss"),
    ],
    "03_normalization": [
        ("BatchNorm", "plain", "test_acc"),                      # a six-convolution CNN at Adam lr 1e-2
        ("BatchNorm", "BatchNorm over 2 images", "test_acc"),    # the same network, statistics of 2 images
    ],
    "04_regularization": [
        ("dropout", "none", "test_loss"),
        ("weight decay", "none", "test_loss"),
        ("early stopping", "none", "test_loss"),
        ("label smoothing", "none", "ece"),
    ],
    "05_augmentation": [
        ("flips + crops", "no augmentation", "test_acc"),
        ("flips + crops", "no augmentation", "test_loss"),
        ("flips + crops", "no augmentation", "ece"),
    ],
    "06_debugging": [
        ("zero_grad every step", "zero_grad forgotten", "train_loss"),
        ("He init", "torch's default init", "test_acc"),
        ("learning rate", "weight decay", "val_acc_swing"),
        ("batch 256, lr × 8", "batch 256, same lr", "test_acc"),
        ("fine-tune all layers", "from scratch", "test_acc"),
        ("freeze the features", "from scratch", "test_acc"),
    ],
}


def _tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []) or [])


def _slide_type(cell) -> str | None:
    return cell.metadata.get("slideshow", {}).get("slide_type")


def _read(lecture: Path) -> nbformat.NotebookNode:
    return nbformat.read(lecture, as_version=4)


# ---------------------------------------------------------------- structure
def test_there_are_lectures():
    """Is the glob finding the six lecture notebooks?"""
    assert len(IDS) == 6 and {"01_metrics", "06_debugging"} <= set(IDS)


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_committed_without_outputs(lecture):
    """Is the lecture saved with no outputs and no execution counts?"""
    nb = _read(lecture)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert dirty == [], f"{lecture.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_every_cell_has_slide_metadata(lecture):
    """Does every cell say how it appears in the slides (slideshow.slide_type)?"""
    nb = _read(lecture)
    missing = [i for i, cell in enumerate(nb.cells) if _slide_type(cell) not in SLIDE_TYPES]
    assert missing == [], f"{lecture.name}: cells {missing} lack slideshow.slide_type"
    assert _slide_type(nb.cells[0]) == "slide"


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_every_slide_has_speaker_notes(lecture):
    """Does every slide and subslide carry a notes cell (what to say, point at, ask, and the usual confusion)?"""
    nb = _read(lecture)
    slides, current = [], None
    for i, cell in enumerate(nb.cells):
        if _slide_type(cell) in ("slide", "subslide"):
            current = [i, False]
            slides.append(current)
        elif _slide_type(cell) == "notes" and current is not None:
            current[1] = current[1] or bool(cell.source.strip())
    without = [i for i, has_notes in slides if not has_notes]
    assert slides and without == [], f"{lecture.name}: the slides starting at cells {without} have no notes"


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_a_notation_box_opens_the_lecture(lecture):
    """Is there a notation box (a markdown cell tagged 'notation') among the first cells?"""
    nb = _read(lecture)
    first = nb.cells[:6]
    assert any("notation" in _tags(c) and c.cell_type == "markdown" for c in first), \
        f"{lecture.name}: tag the notation box 'notation' and put it near the top"


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_every_exercise_is_followed_by_its_folded_answer(lecture):
    """Are there six or more exercises, each with an answer right after it, folded so students try first?"""
    nb = _read(lecture)
    exercises = [i for i, c in enumerate(nb.cells) if "exercise" in _tags(c)]
    assert len(exercises) >= MIN_EXERCISES, f"{lecture.name}: {len(exercises)} exercises, want {MIN_EXERCISES}"
    for i in exercises:
        # the answer follows the exercise, after at most one untagged cell for the student's own try
        following = nb.cells[i + 1:i + 3]
        answers = [c for c in following if "answer" in _tags(c)]
        assert answers, f"{lecture.name}: exercise at cell {i} has no answer cell right after it"
        answer = answers[0]
        if answer.cell_type == "markdown":
            assert "<details>" in answer.source and "<summary>" in answer.source, \
                f"{lecture.name}: the answer to cell {i} is not folded in <details>"
        else:
            assert answer.metadata.get("jupyter", {}).get("source_hidden"), \
                f"{lecture.name}: the code answer to cell {i} is not collapsed (jupyter.source_hidden)"


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_answers_stay_out_of_the_slides(lecture):
    """Is every answer cell marked so the slides leave it out ('answer' tag, removed by course slides)?"""
    from autograder.publish.slides import SLIDE_REMOVED_TAGS

    assert "answer" in SLIDE_REMOVED_TAGS
    nb = _read(lecture)
    assert any("answer" in _tags(c) for c in nb.cells)


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_a_references_section_closes_the_lecture(lecture):
    """Does the lecture end with a References section that cites papers (a year in parentheses)?"""
    nb = _read(lecture)
    refs = [c for c in nb.cells if c.cell_type == "markdown" and re.search(r"^#+\s*References", c.source, re.M)]
    assert refs, f"{lecture.name} has no References section"
    assert len(re.findall(r"\(\d{4}\)|\b(19|20)\d{2}\b", refs[-1].source)) >= 3


def _library_names() -> set[str]:
    """Every public name of every module of the course library."""
    import importlib
    import pkgutil

    import course

    names = set()
    for info in pkgutil.walk_packages(course.__path__, "course."):
        module = importlib.import_module(info.name)
        names |= set(getattr(module, "__all__", []))
    return names


@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_lectures_import_helpers_and_never_redefine_them(lecture):
    """Do lectures import the course library, define no classes, and never redefine a library function?

    A lecture may define the experiment it teaches (``def train(seed): ...``); a helper it
    needs beyond that belongs in the library.
    """
    nb = _read(lecture)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "from course" in source
    assert not re.search(r"^\s*class ", source, re.MULTILINE), f"{lecture.name} defines a class"
    assert "autograder" not in source
    defined = set(re.findall(r"^\s*def (\w+)", source, re.MULTILINE))
    shadowed = defined & _library_names()
    assert shadowed == set(), f"{lecture.name} redefines {sorted(shadowed)}: import it from the course library"


# ---------------------------------------------------------------- execution at CPU size
class LectureRun:
    """One lecture executed at CPU size: the notebook with outputs, seconds, and what it recorded."""

    def __init__(self, lecture: Path, tmp: Path):
        import os

        from nbclient import NotebookClient

        record = tmp / f"{lecture.stem}.jsonl"
        env = {"COURSE_STATIC": "1", "COURSE_SIZE": "cpu", "COURSE_RECORD": str(record),
               "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        saved = {k: os.environ.get(k) for k in (*env, "COURSE_QUICK", "NBGRADER_EXECUTION")}
        os.environ.update(env)
        os.environ.pop("COURSE_QUICK", None)
        os.environ.pop("NBGRADER_EXECUTION", None)
        try:
            self.nb = _read(lecture)
            client = NotebookClient(self.nb, timeout=600, kernel_name="python3",
                                    resources={"metadata": {"path": str(lecture.parent)}})
            started = time.perf_counter()
            client.execute()
            self.seconds = time.perf_counter() - started
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.records = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


_RUNS: dict[str, LectureRun] = {}


@pytest.fixture(scope="session")
def lecture_runs(tmp_path_factory):
    """Each lecture executed once per test session at CPU size: ``runs(lecture) -> LectureRun``."""
    tmp = tmp_path_factory.mktemp("lecture-records")

    def get(lecture: Path) -> LectureRun:
        if lecture.stem not in _RUNS:
            _RUNS[lecture.stem] = LectureRun(lecture, tmp)
        return _RUNS[lecture.stem]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_lecture_executes_headless_at_cpu_size(lecture, lecture_runs):
    """Does the lecture run top to bottom at its CPU size without an error, every code answer included?"""
    run = lecture_runs(lecture)
    errors = [out for cell in run.nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]
    assert errors == []
    unexecuted = [i for i, c in enumerate(run.nb.cells) if c.cell_type == "code" and c.execution_count is None]
    assert unexecuted == []
    print(f"{lecture.stem}: {run.seconds:.1f} s at CPU size")


@pytest.mark.slow
@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_widget_cells_show_the_static_figure(lecture, lecture_runs):
    """Headless, does every widget cell leave a PNG (the static fallback) and no live widget?"""
    run = lecture_runs(lecture)
    widget_cells = [cell for cell in run.nb.cells if cell.cell_type == "code" and WIDGET_CALL.search(cell.source)]
    for cell in widget_cells:
        kinds = [set(out.get("data", {})) for out in cell.outputs]
        assert any("image/png" in k for k in kinds), f"no figure in: {cell.source[:80]!r}"
        assert not any("application/vnd.jupyter.widget-view+json" in k for k in kinds)


def _holds(values: dict[str, list[float]], better: str, worse: str, metric: str) -> tuple[bool, str]:
    """The claim checked from the raw per-seed numbers, independently of course.comparisons."""
    a, b = values[better], values[worse]
    sign = -1.0 if any(w in metric for w in ("loss", "ece", "error", "time")) else 1.0
    margin = sign * (statistics.fmean(a) - statistics.fmean(b))
    spread = max(max(a) - min(a), max(b) - min(b))
    return margin > spread and len(a) >= 3, f"margin {margin:.4f}, range {spread:.4f}, seeds {len(a)}"


@pytest.mark.slow
@pytest.mark.parametrize("lecture", LECTURES, ids=IDS)
def test_every_claim_the_lecture_makes_holds_over_three_seeds(lecture, lecture_runs):
    """Does each claim beat the seed-to-seed range over at least 3 seeds, and is every expected claim made?"""
    run = lecture_runs(lecture)
    claims = [r for r in run.records if r["kind"] == "claim"]
    for claim in claims:
        assert claim["size"] == "cpu"
        ok, numbers = _holds(claim["values"], claim["better"], claim["worse"], claim["metric"])
        assert ok, f"{lecture.stem}: '{claim['better']} beats {claim['worse']} on {claim['metric']}' ({numbers})"
    made = {(c["better"], c["worse"], c["metric"]) for c in claims}
    missing = [c for c in EXPECTED_CLAIMS.get(lecture.stem, []) if c not in made]
    assert missing == [], f"{lecture.stem} no longer makes the claims {missing}"
    assert EXPECTED_CLAIMS.get(lecture.stem), f"{lecture.stem}: list the claims its text makes in EXPECTED_CLAIMS"
