"""The release: what nbgrader generates from solutions/, and what must never be in it."""
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.release import assignments, release
from autograder.settings import COURSE_ROOT

SOLUTIONS = COURSE_ROOT / "solutions"
COURSE = COURSE_ROOT / "course"
NAMES = assignments()


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def test_every_solution_marker_has_its_end():
    """Does every BEGIN SOLUTION / BEGIN HIDDEN TESTS have its END, in order, never nested?"""
    for path in SOLUTIONS.glob("*/*.ipynb"):
        for i, cell in enumerate(_cells(path)):
            stack = []
            for line in cell.source.splitlines():
                m = re.match(r"\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$", line)
                if not m:
                    continue
                kind, what = m.groups()
                if kind == "BEGIN":
                    assert not stack, f"{path.name} cell {i}: nested {what}"
                    stack.append(what)
                else:
                    assert stack == [what], f"{path.name} cell {i}: END {what} without BEGIN"
                    stack.pop()
            assert not stack, f"{path.name} cell {i}: BEGIN {stack[0]} without END"


def test_solution_folders_hold_only_the_notebook():
    """Does every solutions/<assignment>/ hold nothing but its notebook (nbgrader copies the rest)?"""
    for folder in SOLUTIONS.iterdir():
        if folder.is_dir():
            files = {p.name for p in folder.iterdir() if p.name != ".ipynb_checkpoints"}
            assert files == {f"{folder.name}.ipynb"}, files


@pytest.mark.slow
def test_committed_release_is_what_nbgrader_generates(tmp_path):
    """Is course/assignments exactly what nbgrader generates from solutions/ today?"""
    written = release(root=COURSE_ROOT, release_dir=tmp_path)
    assert {p.parent.name for p in written} == set(NAMES)
    for path in written:
        committed = COURSE / "assignments" / path.parent.name / path.name
        assert committed.is_file(), f"{committed} is missing: run `course release`"
        fresh = json.loads(path.read_text())
        assert json.loads(committed.read_text()) == fresh, \
            f"{committed} differs from a fresh release: run `course release` and commit"
    extra = {p.name for p in (COURSE / "assignments").iterdir() if p.is_dir()} - set(NAMES)
    assert not extra, f"released assignments without a source: {extra}"


def _course_text_files():
    for path in COURSE.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".ipynb", ".md", ".txt", ".json"} \
                and ".ipynb_checkpoints" not in path.parts:
            yield path


def test_course_contains_no_solution_hidden_test_or_reference():
    """Is there no solution text, no hidden test, no autograder import and no reference code
    anywhere under course/?"""
    solution_lines = set()
    for path in SOLUTIONS.glob("*/*.ipynb"):
        for cell in _cells(path):
            inside = False
            for line in cell.source.splitlines():
                if re.match(r"\s*### BEGIN (SOLUTION|HIDDEN TESTS)", line):
                    inside = True
                elif re.match(r"\s*### END (SOLUTION|HIDDEN TESTS)", line):
                    inside = False
                elif inside and len(line.strip()) > 25:
                    solution_lines.add(line.strip())
    reference_lines = {line.strip() for p in (COURSE_ROOT / "autograder" / "reference").glob("*.py")
                       for line in p.read_text().splitlines()
                       if len(line.strip()) > 25 and (" = " in line or line.strip().startswith("return "))}
    for path in _course_text_files():
        text = path.read_text(errors="replace")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{path}: {marker}"
        assert not re.search(r"(from|import)\s+autograder", text), f"{path} imports autograder"
        leaked = [line for line in solution_lines | reference_lines if line in text]
        assert not leaked, f"{path} contains solution/reference lines: {leaked[:3]}"


def test_course_package_never_imports_autograder():
    """Can the course library be imported with autograder unimportable, and does no module
    under course/ name it in an import?"""
    for path in (COURSE_ROOT / "course").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "autograder" for a in node.names), path
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "autograder", path
    code = ("import sys; sys.modules['autograder'] = None\n"
            "import pkgutil, importlib, course\n"
            "for m in pkgutil.walk_packages(course.__path__, 'course.'):\n"
            "    importlib.import_module(m.name)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=COURSE_ROOT)


def test_released_notebooks_have_stubs_and_visible_tests():
    """Does every released solution cell hold nbgrader's stub, and every test cell its visible tests?"""
    for name in NAMES:
        cells = _cells(COURSE / "assignments" / name / f"{name}.ipynb")
        solution_cells = [c for c in cells if c.metadata.get("nbgrader", {}).get("solution")]
        grade_cells = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert solution_cells and grade_cells
        for cell in solution_cells:
            assert "raise NotImplementedError()" in cell.source and "# YOUR CODE HERE" in cell.source
        for cell in grade_cells:
            assert "assert" in cell.source, cell.metadata["nbgrader"]["grade_id"]
