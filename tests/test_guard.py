"""Tests for autograder.sandbox.guard: forbidden library routines are recorded when student code
calls them, whether their module was imported before the guard was armed or only afterwards by
the student's own code (the host does not import what most notebooks never use)."""
from __future__ import annotations

import importlib
import sys

import pytest

from autograder.sandbox.guard import Guard


@pytest.fixture
def library(tmp_path, monkeypatch):
    """A package ``fakelib`` on the path: ``fakelib.metrics`` (routines), ``fakelib.optim``
    (a class and a module-level function); none of it imported yet."""
    package = tmp_path / "fakelib"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "metrics.py").write_text("def auc(y, s):\n    return 0.5\n\ndef _private():\n    return 1\n")
    (package / "optim.py").write_text("class Adam:\n    def __init__(self, lr):\n        self.lr = lr\n"
                                      "    def step(self):\n        return self.lr\n\n"
                                      "def helper():\n    return 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    yield
    for name in [n for n in sys.modules if n == "fakelib" or n.startswith("fakelib.")]:
        del sys.modules[name]


def calls(guard, fn, *args):
    """What ``fn(*args)`` reached, called as a student's call is (``student_code(guarded=True)``
    arms the process's one guard; this test's own guard is armed the same way)."""
    guard.seen.clear()
    guard.active = True
    try:
        fn(*args)
    finally:
        guard.active = False
    return set(guard.seen)


def test_a_module_the_student_imports_later_is_guarded_then(library):
    """Is nothing imported when the guard is armed, and is a routine of a module the student's
    code imports afterwards recorded when the student calls it?"""
    guard = Guard()
    guard.install(["fakelib.metrics", "fakelib.optim.Adam"])
    assert "fakelib" not in sys.modules and "fakelib.metrics" not in sys.modules
    from fakelib.metrics import auc  # the student's import
    from fakelib.optim import Adam, helper

    assert calls(guard, auc, [0, 1], [0.2, 0.8]) == {"fakelib.metrics.auc"}
    assert calls(guard, Adam, 0.1) == {"fakelib.optim.Adam"}
    assert calls(guard, Adam(0.1).step) == {"fakelib.optim.Adam"}
    assert calls(guard, helper) == set()  # not forbidden
    assert not guard.waiting


def test_importing_only_the_package_guards_the_module_that_waited(library):
    """``import fakelib`` and ``fakelib.metrics`` reached later: still guarded."""
    guard = Guard()
    guard.install(["fakelib.metrics"])
    fakelib = importlib.import_module("fakelib")
    assert calls(guard, fakelib.metrics.auc, [0], [1]) == {"fakelib.metrics.auc"}


def test_a_module_imported_before_is_guarded_at_once_and_not_outside_student_code(library):
    """A module already imported is wrapped when the guard is installed; a call while the guard
    is not armed, and a module no name waited for, are not recorded."""
    import fakelib.optim

    guard = Guard()
    guard.install(["fakelib.optim.Adam", "fakelib.nothing_here", "nolib.at_all"])
    assert calls(guard, fakelib.optim.Adam, 0.1) == {"fakelib.optim.Adam"}
    guard.seen.clear()
    fakelib.optim.Adam(0.1)  # not while a student call runs
    assert guard.seen == set()
    importlib.import_module("fakelib.metrics")  # nothing waited for it: stays as it is
    assert calls(guard, sys.modules["fakelib.metrics"].auc, [0], [1]) == set()
