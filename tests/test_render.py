"""Readable renderings (autograder.publish.render): executed lectures with outputs, their size and device, never stale."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder.publish.render import fingerprint, render_lectures, rendering_of, stale_renderings
from lecture_files import write_lecture

ROOT = Path(__file__).resolve().parents[1]
LECTURES = ROOT / "course" / "lectures"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A two-cell lecture that makes a comparison and a claim, rendered at CPU size."""
    folder = tmp_path_factory.mktemp("lectures")
    lecture = write_lecture(folder / "01_demo.ipynb", [
        nbformat.v4.new_markdown_cell("# Demo"),
        nbformat.v4.new_code_cell(
            "from course.comparisons import compare\n"
            "from course.device import current_size\n"
            "r = compare({'a': lambda s: {'test_acc': 0.5 + 0.01 * s}, 'b': lambda s: {'test_acc': 0.9}}, "
            "title='demo', progress=False)\n"
            "r.claim('b', 'a')\n"
            "print('size', current_size())"),
    ])
    written = render_lectures(folder, size="cpu")
    return lecture, written


@pytest.mark.slow
def test_a_rendering_holds_the_outputs_and_says_where_they_come_from(rendered):
    """Does the rendering carry the executed outputs, a first cell naming device and size, and the metadata?"""
    lecture, written = rendered
    assert written == [rendering_of(lecture)]
    nb = nbformat.read(written[0], as_version=4)
    header = nb.cells[0]
    assert "rendering-header" in header.metadata["tags"] and "CPU size" in header.source and "cpu" in header.source
    text = "".join(out.get("text", "") for out in nb.cells[2].outputs)
    assert "size cpu" in text and "b beats a" in text
    info = nb.metadata["course"]["rendered"]
    assert info["size"] == "cpu" and info["fingerprint"] == fingerprint(nbformat.read(lecture, as_version=4))
    assert info["device"].startswith("cpu") and info["seconds"] > 0


@pytest.mark.slow
def test_the_claims_are_kept_beside_the_rendering(rendered):
    """Are the lecture's comparisons and claims recorded next to its rendering, with their per-seed numbers?"""
    lecture, written = rendered
    records = [json.loads(line) for line in (written[0].parent / "01_demo.records.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in records] == ["comparison", "claim"]
    assert records[1]["holds"] and records[1]["values"]["a"] == pytest.approx([0.5, 0.51, 0.52])


@pytest.mark.slow
def test_a_changed_cell_makes_the_rendering_stale(rendered, tmp_path):
    """After a lecture's cell changes, does stale_renderings name it, and not before?"""
    lecture, _ = rendered
    assert stale_renderings(lecture.parent) == []
    nb = nbformat.read(lecture, as_version=4)
    nb.cells[0].source = "# Demo, edited"
    nbformat.write(nb, lecture)
    problems = stale_renderings(lecture.parent)
    assert len(problems) == 1 and "01_demo.ipynb: changed since its rendering" in problems[0]


def test_metadata_changes_keep_the_fingerprint_and_source_changes_do_not():
    """Do slide types and tags leave the fingerprint alone while a source edit changes it?"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    before = fingerprint(nb)
    nb.cells[0].metadata["slideshow"] = {"slide_type": "slide"}
    nb.cells[0].metadata["tags"] = ["exercise"]
    assert fingerprint(nb) == before
    nb.cells[0].source = "x = 2"
    assert fingerprint(nb) != before


def test_every_lecture_has_a_current_rendering():
    """Is each committed rendering made from the lecture's current cells (else: run `course render`)?"""
    assert stale_renderings(LECTURES) == []


def test_renderings_are_in_the_student_bundle(tmp_path):
    """Does the zip students receive carry the renderings, so they can read without running anything?"""
    import zipfile

    from autograder.publish.bundle import build_student_bundle

    names = zipfile.ZipFile(build_student_bundle(tmp_path / "s.zip")).namelist()
    for lecture in sorted(LECTURES.glob("*.ipynb")):
        assert f"student-course/course/lectures/rendered/{lecture.name}" in names
