"""The student bundle: course/ alone, installable, with nothing from the TA side."""
import subprocess
import sys
import zipfile

import pytest

from autograder.bundle import build_student_bundle
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
    assert tops == {"pyproject.toml", "README.md", "constraints.txt", "course"}
    assert "student-course/course/device.py" in names
    released = [p.relative_to(COURSE_ROOT).as_posix() for p in (COURSE_ROOT / "course" / "assignments").rglob("*.ipynb")
                if ".ipynb_checkpoints" not in p.parts]
    assert released and all(f"student-course/{r}" in names for r in released)


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
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"course"}
    assert {"course/widgets/canvas_figure.js", "course/widgets/metrics.js",
            "course/widgets/augmentation.js"} <= set(names)  # the browser half of the live figures
