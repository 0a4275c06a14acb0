"""Release: nbgrader's ``generate_assignment`` from ``solutions/`` into ``course/assignments/``."""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .settings import COURSE_ROOT, GradingSettings, nbgrader_config

__all__ = ["ReleaseError", "assignments", "release", "make_api"]


class ReleaseError(RuntimeError):
    """nbgrader could not generate an assignment; the message holds its log."""


def assignments(root: Path = COURSE_ROOT, settings: GradingSettings = GradingSettings()) -> list[str]:
    """Assignment names: the folders of ``solutions/`` that hold ``<name>/<name>.ipynb``."""
    source = Path(root) / settings.source_directory
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


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


def release(names: list[str] | None = None, root: Path = COURSE_ROOT,
            release_dir: Path | None = None, settings: GradingSettings = GradingSettings()) -> list[Path]:
    """Generate the student version of each assignment; return the released files: each
    notebook, then its ``mistakes.json`` (for an assignment with catalogued mistakes).

    Beside each notebook goes what its visible tests need to name a typical mistake before the
    deadline (:mod:`autograder.checks.visible`): the catalogued mistakes' numbers on the visible
    tests, data only. ``release_dir`` (default ``course/assignments`` under ``root``) lets a test
    regenerate into a temporary folder and compare. The gradebook written on the way is a throwaway.
    """
    from .checks.catalogue import catalogue
    from .checks.visible import VisibleError, write_diagnosis_data

    root = Path(root).resolve()
    names = names or assignments(root, settings)
    release_dir = Path(release_dir).resolve() if release_dir else root / settings.release_directory
    written = []
    with tempfile.TemporaryDirectory(prefix="release-db-") as scratch:
        api = make_api(root, settings, **{
            "CourseDirectory.release_directory": str(release_dir),
            "CourseDirectory.db_url": f"sqlite:///{Path(scratch) / 'gradebook.db'}",
        })
        for name in names:
            source = root / settings.source_directory / name / f"{name}.ipynb"
            if not source.is_file():
                raise ReleaseError(f"no source notebook {source}")
            target = release_dir / name
            if target.exists():
                shutil.rmtree(target)
            result = api.generate_assignment(name, force=True, create=True)
            if not result.get("success"):
                raise ReleaseError(f"nbgrader could not release {name!r}:\n{result.get('log', '')}"
                                   f"{result.get('error', '')}")
            written.extend(sorted(target.glob("*.ipynb")))
            if not catalogue(name):
                continue  # no typical mistakes known: nothing for the visible tests to name
            try:
                written.append(write_diagnosis_data(name, source, target))
            except VisibleError as exc:
                raise ReleaseError(f"{name}: {exc}") from exc
    return written
