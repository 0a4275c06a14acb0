"""Checks that compare a student's function with the hidden reference.

A check takes the student's function (or class) explicitly and returns a
:class:`~autograder.checks.result.CheckResult`: what passed, what failed and why, in
words a student can act on, with the typical mistake their numbers match when one does.
Hidden test cells call ``check(...).assert_passed()``.
"""
from .result import CheckFailed, CheckResult

__all__ = ["CheckResult", "CheckFailed"]
