"""Grading settings and the nbgrader configuration built from them."""
import re
import warnings

import pytest

from autograder.settings import WARNING_PATTERN, GradingSettings, nbgrader_config


def _formatted_warning(category, text):
    return warnings.formatwarning(text, category, "/home/student/work/optimizers.py", 12)


@pytest.mark.parametrize("category", [UserWarning, DeprecationWarning, RuntimeWarning, FutureWarning])
def test_python_warnings_are_ignored(category):
    """Is a Python warning, as printed on stderr, removed before nbgrader scores the cell?"""
    assert re.search(WARNING_PATTERN, _formatted_warning(category, "something harmless"))


def test_torch_cpp_warnings_are_ignored():
    """Is a warning from torch's C++ side removed too?"""
    text = "[W1122 01:00:00.000000000 TensorShape.cpp:123] Warning: a deprecated overload (function foo)\n"
    assert re.search(WARNING_PATTERN, text)


@pytest.mark.parametrize("text", ["AssertionError: visible test failed\n",
                                  "Traceback (most recent call last):\n  File \"x.py\", line 3\n",
                                  "debug: my value is 3\n"])
def test_other_stderr_is_kept(text):
    """Is other stderr output (errors, a student's own prints) left for nbgrader to see?"""
    assert not re.search(WARNING_PATTERN, text)


def test_config_carries_the_settings(tmp_path):
    """Does the nbgrader config hold the timeout, the stderr pattern and the release layout?"""
    settings = GradingSettings(cell_timeout=42)
    c = nbgrader_config(tmp_path, settings)
    assert c.Execute.timeout == 42
    assert c.IgnorePattern.enabled and c.IgnorePattern.pattern == settings.ignore_stderr_pattern
    assert c.CourseDirectory.source_directory == "solutions"
    assert c.CourseDirectory.release_directory == "course/assignments"
    assert c.CourseDirectory.root == str(tmp_path.resolve())


def test_every_setting_is_documented():
    """Does every field of GradingSettings carry a docstring in the source?"""
    import inspect

    import autograder.settings as module

    source = inspect.getsource(module.GradingSettings)
    for name in GradingSettings.__dataclass_fields__:
        after = source.split(f"    {name}:", 1)[1].splitlines()
        assert after[1].strip().startswith('"""'), f"{name} has no docstring"


def test_instructors_nbgrader_config_is_honoured_by_release_and_grading(tmp_path):
    """Does what an instructor sets in nbgrader_config.py (a cell timeout, the late penalty, a
    code stub) reach the settings that `course release` and `course grade` use, while what the
    file only repeats from our defaults changes nothing?"""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.publish.release import release
    from autograder.settings import COURSE_ROOT, GradingSettings, instructor_settings, nbgrader_config

    assert instructor_settings(COURSE_ROOT) == GradingSettings()  # the repository's file adds nothing
    (tmp_path / "nbgrader_config.py").write_text(
        (COURSE_ROOT / "nbgrader_config.py").read_text() +
        "c.Execute.timeout = 77\n"
        "c.LateSubmissionPlugin.penalty_method = 'none'\n"
        "c.ClearSolutions.code_stub = {'python': '# write your answer here\\nraise NotImplementedError()'}\n")
    settings = instructor_settings(tmp_path)
    assert settings.cell_timeout == 77 and settings.late_penalty == "none"
    config = nbgrader_config(tmp_path / "grading", settings)  # what a grading run builds
    assert config.Execute.timeout == 77 and config.LateSubmissionPlugin.penalty_method == "none"
    source = new_notebook(cells=[new_code_cell(
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
        metadata={"nbgrader": {"grade_id": "f", "solution": True, "grade": False, "locked": False,
                               "schema_version": 3}})])
    (tmp_path / "solutions" / "a").mkdir(parents=True)
    nbformat.write(source, tmp_path / "solutions" / "a" / "a.ipynb")
    (released,) = release(["a"], root=tmp_path, release_dir=tmp_path / "out", settings=settings)
    assert "# write your answer here" in nbformat.read(released, 4).cells[0].source
