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
