"""The instructor's nbgrader course: this repository's root.

source  = solutions/<assignment>/<assignment>.ipynb   (solutions and hidden tests)
release = course/assignments/<assignment>/             (what students get; committed)

Every setting comes from autograder.settings, which `course grade` uses too.
"""
from pathlib import Path

from autograder.settings import GradingSettings, nbgrader_config

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
c.merge(nbgrader_config(Path(__file__).resolve().parent, GradingSettings()))
