"""What students receive, as one zip: the ``course`` library, the lectures and the released
assignments, installable on its own. No solutions, no hidden tests, no ``autograder``.

    student-course/
        pyproject.toml     the ``course`` package alone
        constraints.txt    the tested versions
        README.md          two commands: install, open JupyterLab
        course/            library, lectures/, assignments/
"""
from __future__ import annotations

import fnmatch
import zipfile
from pathlib import Path

from .settings import COURSE_ROOT

__all__ = ["build_student_bundle", "STUDENT_DEPENDENCIES"]

STUDENT_DEPENDENCIES = ["jupyterlab>=4.0", "numpy>=1.24", "matplotlib>=3.7", "ipywidgets>=8.0",
                        "anywidget>=0.9", "torch>=2.1", "scikit-learn>=1.3", "tqdm>=4.60"]

_SKIP = ["*.pyc", "__pycache__", ".ipynb_checkpoints", "*.egg-info"]

_PYPROJECT = """[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "training-neural-networks-course"
version = "{version}"
description = "Training Neural Networks: the course library, lectures and assignments"
requires-python = ">=3.10"
dependencies = {dependencies}

[tool.setuptools.packages.find]
include = ["course*"]

[tool.setuptools.package-data]
course = ["*.js", "widgets/*.js"]
"""

_README = """# Training Neural Networks: student edition

```bash
python3 -m pip install -c constraints.txt .    # the course library and JupyterLab, tested versions
jupyter lab course/                             # lectures/ to read, assignments/ to work on
```

In an assignment, write your code where it says `# YOUR CODE HERE`, run the test cell under it,
and before you hand in: *Kernel -> Restart & Run All*. Heavy training cells use a GPU when torch
sees one and shrink themselves on a CPU.
"""


def _skipped(path: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in path.parts for pattern in _SKIP)


def build_student_bundle(out: Path, root: Path = COURSE_ROOT) -> Path:
    """Write ``out`` (a ``.zip``) with everything under ``course/`` and an install recipe."""
    import course

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    top = "student-course"
    deps = "[" + ", ".join(f'"{d}"' for d in STUDENT_DEPENDENCIES) + "]"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{top}/pyproject.toml", _PYPROJECT.format(version=course.__version__,
                                                              dependencies=deps))
        zf.writestr(f"{top}/README.md", _README)
        zf.write(root / "constraints.txt", f"{top}/constraints.txt")
        for path in sorted((root / "course").rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not _skipped(relative):
                zf.write(path, f"{top}/{relative.as_posix()}")
    return out
