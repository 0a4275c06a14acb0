"""The grading course under ``OUT/nbgrader`` as nbgrader's formgrader opens it.

``course grade`` writes ``OUT/nbgrader/nbgrader_config.py``; a TA runs
``cd OUT/nbgrader && jupyter lab`` (or ``jupyter server``), opens the Formgrader, reviews a
submission and adjusts a score by hand; ``course export OUT`` then writes every CSV again
from the gradebook, adjustments included.
"""
from __future__ import annotations

from pathlib import Path

from ..settings import GradingSettings

__all__ = ["write_formgrader_config"]


def write_formgrader_config(work: Path, settings: GradingSettings) -> Path:
    """``OUT/nbgrader/nbgrader_config.py``: the grading course as nbgrader's formgrader opens
    it (``cd OUT/nbgrader && jupyter lab``, then the Formgrader tab)."""
    path = work / "nbgrader_config.py"
    path.write_text(
        '"""The grading course written by `course grade`: open it in nbgrader\'s formgrader."""\n'
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(work)!r}\n"
        f"c.CourseDirectory.course_id = {settings.course_id!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(work / 'gradebook.db')!r}\n"
        "c.CourseDirectory.source_directory = 'source'\n"
        "c.CourseDirectory.release_directory = 'release'\n"
        "c.CourseDirectory.submitted_directory = 'executed'\n"
        "c.CourseDirectory.autograded_directory = 'autograded'\n"
        "c.CourseDirectory.feedback_directory = 'feedback'\n"
        "c.CourseDirectory.ignore = ['*']\n")
    return path
