"""Release: nbgrader's ``generate_assignment`` from ``solutions/`` into ``course/assignments/``.

A source notebook whose hidden tests are not in the agreed form (:func:`autograder.grade.verdicts.
form_problems`) is refused: grading judges every hidden check outside the student's process
and has no other way to run one. ``course release`` also measures each cell's own time in the
source notebook (:mod:`autograder.publish.cell_times`), which the grading limits come from.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..settings import COURSE_ROOT, GradingSettings, make_api

__all__ = ["ReleaseError", "assignments", "release"]


class ReleaseError(RuntimeError):
    """nbgrader could not generate an assignment; the message holds its log."""


def assignments(root: Path = COURSE_ROOT, settings: GradingSettings = GradingSettings()) -> list[str]:
    """Assignment names: the folders of ``solutions/`` that hold ``<name>/<name>.ipynb``."""
    source = Path(root) / settings.source_directory
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


def release(names: list[str] | None = None, root: Path = COURSE_ROOT,
            release_dir: Path | None = None, settings: GradingSettings = GradingSettings()) -> list[Path]:
    """Generate the student version of each assignment; return the released files: each
    notebook, then its ``mistakes.json`` (for an assignment with catalogued mistakes).

    Beside each notebook goes what its visible tests need to name a typical mistake before the
    deadline (:mod:`autograder.checks.visible`): the catalogued mistakes' numbers on the visible
    tests, data only. ``release_dir`` (default ``course/assignments`` under ``root``) lets a test
    regenerate into a temporary folder and compare. The gradebook written on the way is a throwaway.
    """
    import nbformat

    from ..checks.catalogue import catalogue
    from ..checks.visible import VisibleError, write_diagnosis_data
    from ..grade.verdicts import form_problems

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
            problems = form_problems(nbformat.read(source, as_version=4))
            if problems:
                raise ReleaseError(f"{name}: hidden tests that grading cannot judge outside the "
                                   f"student's process: {'; '.join(problems)}")
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
