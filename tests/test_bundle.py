"""The student bundle: course/ alone, installable, with nothing from the TA side."""
import json
import subprocess
import sys
import zipfile

import pytest

from autograder.publish.bundle import build_student_bundle
from autograder.settings import COURSE_ROOT


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    path = build_student_bundle(tmp_path_factory.mktemp("bundle") / "student-course.zip")
    with zipfile.ZipFile(path) as zf:
        return path, zf.namelist(), {n: zf.read(n) for n in zf.namelist()}


def test_bundle_holds_the_course_and_nothing_else(bundle):
    """Does the zip hold course/ (library, assignments) and the installer, and no autograder,
    solutions or tests?"""
    _, names, _ = bundle
    tops = {n.split("/")[1] for n in names}
    assert tops == {"pyproject.toml", "README.md", "constraints.txt", "course", "jupyter-config"}
    assert "student-course/course/device.py" in names
    released = [p.relative_to(COURSE_ROOT).as_posix() for p in (COURSE_ROOT / "course" / "assignments").rglob("*.ipynb")
                if ".ipynb_checkpoints" not in p.parts]
    assert released and all(f"student-course/{r}" in names for r in released)
    data = [p.relative_to(COURSE_ROOT).as_posix() for p in (COURSE_ROOT / "course" / "assignments").rglob("mistakes.json")]
    assert len(data) == len(released) and all(f"student-course/{d}" in names for d in data)


def test_bundle_text_has_no_secrets(bundle):
    """Is there no solution marker, hidden test or autograder import anywhere in the zip?"""
    _, _, files = bundle
    for name, data in files.items():
        text = data.decode("utf-8", errors="replace")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "import autograder", "from autograder"):
            assert marker not in text, (name, marker)


@pytest.mark.slow
def test_bundle_builds_a_wheel_of_course_alone(bundle, tmp_path):
    """Does pip build an installable wheel from the bundle, holding the course package only?"""
    path, _, _ = bundle
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "wheels"), str(tmp_path / "student-course")], check=True)
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert packages == {"course"}
    data = {n for n in names if n.split("/")[0].endswith(".data")}   # the Jupyter settings, nothing else
    assert {n.split("/data/", 1)[1] for n in data} == {
        "etc/jupyter/jupyter_server_config.d/training_nn_student.json",
        "etc/jupyter/labconfig/page_config.d/training_nn_student.json"}
    assert {"course/widgets/canvas_figure.js", "course/widgets/metrics.js",
            "course/widgets/augmentation.js"} <= set(names)  # the browser half of the live figures


def _imports(source: str) -> set[str]:
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with IPython magics
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_student_bundle_installs_everything_the_course_imports():
    """Is every third-party module that course/ (library, lectures, assignments) imports installed by the bundle's dependencies?"""
    import importlib.metadata as md
    import sys
    from pathlib import Path

    import nbformat
    from packaging.requirements import Requirement

    from autograder.publish.bundle import STUDENT_DEPENDENCIES

    root = Path(__file__).resolve().parents[1] / "course"
    imported = set()
    for path in root.rglob("*.py"):
        imported |= _imports(path.read_text())
    for path in root.rglob("*.ipynb"):
        if "rendered" in path.parts:
            continue
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                imported |= _imports(cell.source)
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "course"}

    # the distributions the bundle installs: its dependencies and everything they require
    installed, todo = set(), [Requirement(r).name for r in STUDENT_DEPENDENCIES]
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in installed:
            continue
        installed.add(name)
        for requirement in md.requires(name) or []:
            req = Requirement(requirement)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    providers = md.packages_distributions()
    missing = {m: providers.get(m) for m in third_party
               if not any(d.lower().replace("_", "-") in installed for d in providers.get(m, []))}
    assert missing == {}, f"course/ imports these, which the student bundle does not install: {missing}"


@pytest.mark.slow
def test_installing_the_bundle_writes_the_students_jupyter_settings(bundle, tmp_path):
    """Does installing the bundle put its Jupyter settings into the environment: validation on,
    the instructor's server extensions off, nbgrader's instructor plugins disabled in JupyterLab?"""
    path, _, _ = bundle
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "--target", str(tmp_path / "site"), "--no-compile", str(tmp_path / "student-course")],
                   check=True)
    wheel_data = list((tmp_path / "site").rglob("training_nn_student.json"))
    assert {p.parent.name for p in wheel_data} == {"jupyter_server_config.d", "page_config.d"}, wheel_data
    server = json.loads(next(p for p in wheel_data if p.parent.name == "jupyter_server_config.d").read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.validate_assignment"] is True
    assert not extensions["nbgrader.server_extensions.formgrader"]
    lab = json.loads(next(p for p in wheel_data if p.parent.name == "page_config.d").read_text())
    assert lab["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True
    assert "@jupyter/nbgrader:validate-assignment" not in lab["disabledExtensions"]
