"""Grading settings in one place, and the nbgrader configuration made from them.

``nbgrader_config.py`` at the course root and ``course grade`` both build their nbgrader
configuration with :func:`nbgrader_config`, so the release and the grading never disagree.
What an instructor adds or changes in ``nbgrader_config.py`` after that line (``Execute.timeout``,
``LateSubmissionPlugin.penalty_method``, ``AssignLatePenalties.plugin_class``, any other
nbgrader setting but the course's folders) is read back by :func:`instructor_settings`, so
``course release`` and ``course grade`` honour it; their command-line options win over it.
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from traitlets.config import Config

__all__ = ["GradingSettings", "nbgrader_config", "make_api", "instructor_settings", "COURSE_ROOT", "WARNING_PATTERN"]

COURSE_ROOT = Path(__file__).resolve().parent.parent

# Python's warnings.showwarning format, "file.py:12: UserWarning: text", and torch's C++
# warnings "[W ...] Warning: text". A stderr chunk that matches is removed before scoring.
WARNING_PATTERN = r"(?m)(^.*:\d+: \w*Warning: |^\[W[^\]]*\] .*Warning)"


@dataclass(frozen=True)
class GradingSettings:
    """How submissions are executed and scored."""

    course_id: str = "training-neural-networks"
    """nbgrader's course id, stored in the gradebook."""

    cell_timeout: int = 180
    """Seconds one cell may run under autograding, at most (nbgrader's ``Execute.timeout``).
    Each cell's own limit is ``cell_time_factor`` times its time in the source notebook's run
    measured at release (:mod:`autograder.publish.cell_times`), at least ``cell_time_floor``."""

    cell_time_factor: float = 20.0
    """A cell may run this many times as long as the same cell of the source notebook did."""

    cell_time_floor: float = 10.0
    """Seconds any cell may run whatever its time in the source notebook (a cell the student
    added, a solution cell that only defines functions)."""

    ignore_stderr_pattern: str = WARNING_PATTERN
    """Regular expression for stderr output removed before scoring: nbgrader scores a test
    cell 0 on any stderr output, and a library's warning must not cost a correct answer."""

    max_output_lines: int = 200
    """Lines of output kept per cell in the graded notebook and the feedback."""

    max_traceback_lines: int = 40
    """Traceback lines kept per cell."""

    source_directory: str = "solutions"
    """Where the source notebooks (solutions and hidden tests) live, relative to the root."""

    release_directory: str = "course/assignments"
    """Where ``generate_assignment`` writes the student version, relative to the root."""

    jobs: int = 0
    """Submissions graded at once; 0 for one per CPU core. Each runs in its own process."""

    sandbox: bool = True
    """Run student code in bubblewrap (no network, read-only file system but its scratch
    folder, reference and grading output hidden). Without bwrap on the machine, grading says
    so once and runs with the resource limits only."""

    warm_kernels: bool = True
    """Fork each student's process, inside the sandbox, from a host that has already imported
    torch, matplotlib, IPython and the course library (:mod:`autograder.sandbox.host`): seconds saved
    per submission. With ``--cold-kernels`` each one is started from scratch instead."""

    memory_limit_mb: int = 4096
    """Address space one student process may map (RLIMIT_AS). A kernel with torch, NumPy and
    the assignment's data maps about 1 GB; a memory bomb meets this and gets a MemoryError."""

    file_limit_mb: int = 1024
    """Largest file student code may write in its scratch folder (RLIMIT_FSIZE)."""

    submission_timeout: int = 1200
    """Wall-clock seconds for one whole submission (kernel, every cell, every hidden check).
    A correct solution needs well under a minute; past this the submission is stopped and
    its row says so."""

    call_timeout: int = 60
    """Seconds one call of a student's function may take inside a hidden check, at most.
    Each call's own limit is ``call_time_factor`` times the reference's time on the same
    input, at least ``call_time_floor``; past it the call is stopped, and every later call of
    that function fails at once with the same reason."""

    call_time_factor: float = 20.0
    """A call of the student's function may take this many times as long as the reference's."""

    call_time_floor: float = 2.0
    """Seconds any call of the student's function may take, however fast the reference."""

    due_date: str | None = None
    """Due date (``2026-11-20 17:00:00 UTC``); a submission whose ``timestamp.txt`` is later
    gets nbgrader's late penalty (``late_penalty``)."""

    late_penalty: str = "zero"
    """nbgrader's ``LateSubmissionPlugin.penalty_method`` for late submissions: ``zero`` or ``none``."""

    extra: dict = field(default_factory=dict, compare=False)
    """Further nbgrader settings, ``{"Class.trait": value}``."""


def nbgrader_config(root: str | Path, settings: GradingSettings = GradingSettings()) -> Config:
    """The nbgrader configuration of a course rooted at ``root``."""
    c = Config()
    c.CourseDirectory.root = str(Path(root).resolve())
    c.CourseDirectory.course_id = settings.course_id
    c.CourseDirectory.source_directory = settings.source_directory
    c.CourseDirectory.release_directory = settings.release_directory
    c.CourseDirectory.db_url = f"sqlite:///{Path(root).resolve() / 'gradebook.db'}"
    # nbgrader copies every file of a source or submission folder that matches no `ignore`
    # glob next to the notebook. Nothing but the notebook travels: no stray answer key from
    # solutions/ into the release, no student's extra files into grading.
    c.CourseDirectory.ignore = ["*"]
    c.Execute.timeout = settings.cell_timeout
    c.Execute.interrupt_on_timeout = True
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = settings.ignore_stderr_pattern
    c.LimitOutput.max_lines = settings.max_output_lines
    c.LimitOutput.max_traceback = settings.max_traceback_lines
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.GenerateAssignment.create_assignment = True
    c.Autograde.create_student = True
    # a graded cell the student deleted comes back (and scores by its checks)
    c.OverwriteCells.add_missing_cells = True
    c.LateSubmissionPlugin.penalty_method = settings.late_penalty
    for key, value in settings.extra.items():
        section, trait = key.rsplit(".", 1)
        setattr(c[section], trait, value)
    return c


# Sections whose settings belong to the course's folders or to nbgrader's exchange, which the
# grading course sets for itself.
NOT_READ_BACK = ("CourseDirectory", "Exchange", "NbGraderAPI")


def make_api(root: Path, settings: GradingSettings = GradingSettings(), **overrides):
    """An ``NbGraderAPI`` for the course at ``root``; ``overrides`` are ``{"Class.trait": v}``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    _tools_on_path()
    config = nbgrader_config(root, settings)
    for key, value in overrides.items():
        section, trait = key.rsplit(".", 1)
        setattr(config[section], trait, value)
    config.NbGraderAPI.log_level = logging.ERROR
    coursedir = CourseDirectory(config=config)
    # The API lists the exchange at start-up; this course uses none (and Windows has none).
    config.Exchange.root = str(Path(tempfile.gettempdir()) / "training-nn-no-exchange")
    return NbGraderAPI(coursedir=coursedir, config=config)


def _tools_on_path() -> None:
    """nbgrader runs ``alembic`` (and kernels) by name: make this environment's scripts findable
    even when the ``course`` command was started by its full path, without activating the venv."""
    scripts = os.path.dirname(sys.executable)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def instructor_settings(root: str | Path = COURSE_ROOT, base: GradingSettings = GradingSettings()) -> GradingSettings:
    """``base`` with the settings of ``root/nbgrader_config.py`` that differ from what ``base``
    makes: ``Execute.timeout`` becomes ``cell_timeout``, ``LateSubmissionPlugin.penalty_method``
    ``late_penalty``, every other one goes into ``extra``."""
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root)
    if not (root / "nbgrader_config.py").is_file():
        return base
    loaded = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    ours = nbgrader_config(root, base)
    changed = {}
    for section, traits in loaded.items():
        if section in NOT_READ_BACK or not isinstance(traits, Config):
            continue
        for trait, value in traits.items():
            if not (section in ours and trait in ours[section] and ours[section][trait] == value):
                changed[f"{section}.{trait}"] = value
    updates = {}
    if "Execute.timeout" in changed:
        updates["cell_timeout"] = int(changed.pop("Execute.timeout"))
    if "LateSubmissionPlugin.penalty_method" in changed:
        updates["late_penalty"] = str(changed.pop("LateSubmissionPlugin.penalty_method"))
    return replace(base, **updates, extra={**changed, **base.extra})
