"""The student's JupyterLab, installed from the student bundle into a fresh environment.

A new virtual environment gets the bundle installed by pip: the ``course`` package and the
student's Jupyter settings. Its dependencies, which a student's pip would download, are
this environment's, made importable by a ``.pth`` file, with the files they install under
``share/jupyter`` and ``etc/jupyter`` copied into the new environment (nbgrader's own settings
switch all its tools on; the bundle's must switch the instructor's off). Nothing of the
repository is importable there: not ``autograder``, not the repository's ``course``.

JupyterLab then runs from that environment on the unzipped bundle. A student opens the
metrics assignment, finds no instructor tool, writes ``confusion_counts`` with a typical
mistake (false positives and negatives swapped), runs everything and reads the visible
test's diagnosis, then writes every function correctly, answers the written questions, and
presses Validate.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import nbformat
import pytest

import lab_page
from autograder.publish.bundle import INSTRUCTOR_PLUGINS, build_student_bundle
from autograder.publish.samples import mistakes_for, solved_notebook, with_mistake
from lab_server import LabServer

pytestmark = pytest.mark.browser

A = "metrics"
NOTEBOOK = f"course/assignments/{A}/{A}.ipynb"
MISTAKE = "confusion-axes-swapped"
#: as in the other browser tests: live widgets, heavy cells at their quick size
LAB_ENV = {"COURSE_STATIC": "0", "COURSE_QUICK": "1"}


@pytest.fixture(scope="module")
def student_lab(chromium_path, tmp_path_factory):
    """JupyterLab from a fresh environment holding the installed student bundle."""
    root = tmp_path_factory.mktemp("student")
    with zipfile.ZipFile(build_student_bundle(root / "student-course.zip")) as zf:
        zf.extractall(root)
    bundle, env = root / "student-course", root / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = str(env / "bin" / "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # the dependencies a student's pip would download: importable, with their Jupyter files
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for part in ("share/jupyter", "etc/jupyter"):
        shutil.copytree(f"{sys.prefix}/{part}", env / part, dirs_exist_ok=True)
    # pip builds the bundle into a wheel and installs it (offline here: the build runs in this
    # environment, whose setuptools is the one the bundle's pyproject.toml asks for)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "--disable-pip-version-check", "-w", str(root / "wheels"), str(bundle)], check=True)
    (wheel,) = (root / "wheels").glob("*.whl")
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--disable-pip-version-check",
                    str(wheel)], check=True)
    where = subprocess.run([python, "-c", "import course; print(course.__file__)"], check=True,
                           capture_output=True, text=True, cwd=root).stdout.strip()
    assert where.startswith(str(env)), f"course should come from the bundle, not {where}"
    assert subprocess.run([python, "-c", "import autograder"], cwd=root, capture_output=True).returncode != 0
    server = LabServer(root=bundle, state=tmp_path_factory.mktemp("student-state"), env=LAB_ENV,
                       python=python).start()
    try:
        yield server
    finally:
        server.stop()


def _index(cells, grade_id):
    return next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _status(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_student_lab_has_validation_and_no_instructor_tools(student_lab, page, screenshot):
    """Opened as a student: is nbgrader's Validate button there, and formgrader, "Create
    Assignment" and the course and assignment lists absent, in JupyterLab and on the server?"""
    lab_page.open_notebook(page, student_lab.notebook_url(NOTEBOOK))
    config = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    assert any(e["name"] == "@jupyter/nbgrader" for e in config["federated_extensions"])
    assert set(INSTRUCTOR_PLUGINS) <= set(config["disabledExtensions"])
    assert "@jupyter/nbgrader:validate-assignment" not in config["disabledExtensions"]
    menus = " ".join(page.locator(".lm-MenuBar-item").all_inner_texts())
    assert "Nbgrader" not in menus and "Formgrader" not in menus, menus
    validate = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar").get_by_text("Validate")
    assert validate.count() == 1
    screenshot(page, "student-lab-validate-button")
    assert _status(student_lab.url("formgrader")) == 404
    assert _status(student_lab.url("nbgrader_version?version=0")) == 200   # the validation extension


def test_student_reads_the_diagnosis_then_validates_the_corrected_notebook(student_lab, page, screenshot):
    """A typical mistake in confusion_counts: does Run All stop at its visible test with the
    mistake named, and does the notebook, once every function is right, pass Validate?"""
    released = nbformat.read(student_lab.root / NOTEBOOK, as_version=4).cells
    solved = solved_notebook(A)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solved.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    written = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solved.cells
               if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")}
    mistaken = {c.metadata["nbgrader"]["grade_id"]: c.source
                for c in with_mistake(solved, mistakes_for(A)[MISTAKE]).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "confusion_counts"}

    lab_page.open_notebook(page, student_lab.notebook_url(NOTEBOOK))
    lab_page.set_cell_source(page, _index(released, "confusion_counts"), mistaken["confusion_counts"])
    shown = lab_page.run_all(page, timeout=300)
    test_cell = _index(released, "test_confusion_counts")
    lab_page.cell_locator(page, test_cell).scroll_into_view_if_needed()
    screenshot(page, "student-lab-diagnosis")
    errors = lab_page.errors(shown)
    assert errors and errors[0].startswith(f"cell {test_cell}:"), errors
    output = " ".join(o["text"] for o in shown[test_cell]["outputs"])
    assert "AssertionError" in output and "Likely cause (your numbers match a typical mistake)" in output, output
    assert "your fp and fn are swapped" in output, output

    for grade_id, source in answers.items():
        lab_page.set_cell_source(page, _index(released, grade_id), source)
    for grade_id, text in written.items():   # nbgrader's validation asks for every answer
        lab_page.set_markdown_source(page, _index(released, grade_id), text)
    lab_page.cell_locator(page, 0).click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=30_000)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar").get_by_text("Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=600_000)
    screenshot(page, "student-lab-validated")
    text = dialog.inner_text()
    assert "Success! Your notebook passes all the tests." in text, text
