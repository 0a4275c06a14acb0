"""The release: what nbgrader generates from solutions/, and what must never be in it."""
import ast
import json
import math
import re
import subprocess
import sys

import nbformat
import pytest

from autograder.publish.release import assignments, release
from course.feedback import DATA_NAME
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
    assert {p.name for p in written} == {f"{n}.ipynb" for n in NAMES} | {DATA_NAME}
    for path in written:
        committed = COURSE / "assignments" / path.parent.name / path.name
        assert committed.is_file(), f"{committed} is missing: run `course release`"
        fresh = json.loads(path.read_text())
        same = json.loads(committed.read_text()) == fresh if path.suffix == ".ipynb" else \
            _same_data(json.loads(committed.read_text()), fresh)
        assert same, f"{committed} differs from a fresh release: run `course release` and commit"
    extra = {p.name for p in (COURSE / "assignments").iterdir() if p.is_dir()} - set(NAMES)
    assert not extra, f"released assignments without a source: {extra}"


def _same_data(committed, fresh) -> bool:
    """The visible-diagnosis data agree: the same tests, mistakes and structure, and numbers
    equal to 1e-12 (another machine's floating point may differ in the last bits)."""
    if isinstance(committed, dict):
        return isinstance(fresh, dict) and committed.keys() == fresh.keys() and \
            all(_same_data(committed[k], fresh[k]) for k in committed)
    if isinstance(committed, list):
        return isinstance(fresh, list) and len(committed) == len(fresh) and \
            all(_same_data(a, b) for a, b in zip(committed, fresh))
    if isinstance(committed, float) and isinstance(fresh, float):
        if math.isnan(committed) or math.isnan(fresh):   # a mistake may give NaN: it must again
            return math.isnan(committed) and math.isnan(fresh)
        return committed == fresh or abs(committed - fresh) <= 1e-12 * max(1.0, abs(committed))
    return committed == fresh


def _course_text_files():
    for path in COURSE.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".ipynb", ".md", ".txt", ".json"} \
                and ".ipynb_checkpoints" not in path.parts:
            yield path


def _secret_blocks():
    """Lines inside solution and hidden-test blocks, and the references' statements."""
    for path in SOLUTIONS.glob("*/*.ipynb"):
        for cell in _cells(path):
            block, inside = [], False
            for line in cell.source.splitlines():
                if re.match(r"\s*### BEGIN (SOLUTION|HIDDEN TESTS)", line):
                    inside, block = True, []
                elif re.match(r"\s*### END (SOLUTION|HIDDEN TESTS)", line):
                    inside = False
                    yield block
                elif inside and line.strip():
                    block.append(line.strip())
    for path in (COURSE_ROOT / "autograder" / "reference").glob("*.py"):
        yield [line.strip() for line in path.read_text().splitlines()
               if line.strip() and not line.strip().startswith(("#", '"""'))]


def _distinctive(blocks):
    """What would give an answer away: a long line with arithmetic, or two consecutive lines."""
    singles, pairs = set(), set()
    for block in blocks:
        for line in block:
            if len(line) >= 30 and re.search(r"[-+*/] ", line) and not line.startswith(("def ", "print(")):
                singles.add(line)
        for a, b in zip(block, block[1:]):
            if len(a) + len(b) >= 40 and not a.startswith(("def ", "class ", "@")):
                pairs.add((a, b))
    return singles, pairs


def test_course_contains_no_solution_hidden_test_or_reference():
    """Is there no solution text, no hidden test, no autograder import and no reference code
    anywhere under course/?"""
    singles, pairs = _distinctive(_secret_blocks())
    for path in _course_text_files():
        text = path.read_text(errors="replace")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{path}: {marker}"
        assert not re.search(r"(from|import)\s+autograder", text), f"{path} imports autograder"
        if path.suffix == ".ipynb":
            lines = [line.strip() for cell in _cells(path) for line in cell.source.splitlines() if line.strip()]
        else:
            lines = [line.strip() for line in text.splitlines() if line.strip()]
        leaked = [line for line in lines if line in singles]
        leaked += [f"{a} / {b}" for a, b in zip(lines, lines[1:]) if (a, b) in pairs]
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
    """Does every released code solution cell hold nbgrader's stub, every written answer cell
    "YOUR ANSWER HERE", and every test cell its visible tests?"""
    for name in NAMES:
        cells = _cells(COURSE / "assignments" / name / f"{name}.ipynb")
        solution_cells = [c for c in cells if c.metadata.get("nbgrader", {}).get("solution")]
        grade_cells = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert solution_cells and grade_cells
        for cell in solution_cells:
            if cell.cell_type == "code":
                assert "raise NotImplementedError()" in cell.source and "# YOUR CODE HERE" in cell.source
            else:
                assert cell.source.strip() == "YOUR ANSWER HERE", cell.source
        for cell in grade_cells:
            if cell.cell_type == "code":  # an assert, or course.gradcheck's check_gradient
                assert "assert" in cell.source or "check_gradient(" in cell.source, \
                    cell.metadata["nbgrader"]["grade_id"]


def test_written_questions_are_manually_graded_with_points_and_a_rubric():
    """Has every assignment two or three written questions, each a manually graded markdown
    answer cell with points, right after its question, holding a model answer and a rubric
    (whose points add up to the cell's) inside its solution region?"""
    for path in SOLUTIONS.glob("*/*.ipynb"):
        cells = _cells(path)
        answers = [(i, c) for i, c in enumerate(cells) if c.cell_type == "markdown"
                   and c.metadata.get("nbgrader", {}).get("grade")]
        assert 2 <= len(answers) <= 3, path.name
        for i, cell in answers:
            meta = cell.metadata["nbgrader"]
            assert meta["solution"] and not meta["locked"] and meta["points"] > 0, meta
            assert meta["grade_id"].startswith("answer_"), meta
            source = cell.source.strip()
            assert source.startswith("### BEGIN SOLUTION") and source.endswith("### END SOLUTION")
            assert "**Model answer.**" in source
            rubric = re.search(r"\*\*Rubric \((\d+) points?\)\.\*\*(.*)", source, re.S)
            assert rubric and int(rubric.group(1)) == meta["points"], meta["grade_id"]
            awarded = [int(n) for n in re.findall(r"(\d+) points?:", rubric.group(2))]
            assert sum(awarded) == meta["points"], (meta["grade_id"], awarded)
            question = cells[i - 1]
            assert question.cell_type == "markdown" and re.match(r"\*\*Question \d \(\d points?\)\.\*\*",
                                                                 question.source), meta["grade_id"]


def test_hidden_tests_run_before_visible_ones():
    """Does every graded cell with hidden tests start with them, so a failing student reads the
    hidden check's diagnosis rather than a bare visible assert?"""
    for path in SOLUTIONS.glob("*/*.ipynb"):
        for cell in _cells(path):
            if cell.metadata.get("nbgrader", {}).get("grade") and "BEGIN HIDDEN TESTS" in cell.source:
                assert cell.source.lstrip().startswith("### BEGIN HIDDEN TESTS"), \
                    f"{path.name}: {cell.metadata['nbgrader']['grade_id']}"
