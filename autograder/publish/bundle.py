"""What students receive, as one zip: the ``course`` library, the lectures and the released
assignments, installable on its own. No solutions, no hidden tests, no ``autograder``.

    student-course/
        pyproject.toml     the ``course`` package alone, and the student's Jupyter settings
        constraints.txt    the tested versions
        README.md          two commands: install, open JupyterLab
        jupyter-config/    JupyterLab as a student sees it (installed into the environment)
        course/            library, lectures/, assignments/

The student's JupyterLab has nbgrader's **Validate** button (and ``nbgrader validate``): it
runs a notebook from a fresh kernel and lists the visible tests that fail. The instructor's
tools are switched off in the environment's Jupyter settings, which the install writes after
nbgrader's own: no formgrader, no "Create Assignment", no course or assignment lists.
"""
from __future__ import annotations

import fnmatch
import json
import zipfile
from pathlib import Path

from ..settings import COURSE_ROOT

__all__ = ["build_student_bundle", "STUDENT_DEPENDENCIES", "INSTRUCTOR_PLUGINS", "STUDENT_SERVER_EXTENSIONS",
           "SETTINGS_NAME"]

STUDENT_DEPENDENCIES = ["jupyterlab>=4.0", "nbgrader>=0.9", "numpy>=1.24", "matplotlib>=3.7", "ipywidgets>=8.0",
                        "anywidget>=0.9", "torch>=2.1", "scikit-learn>=1.3", "tqdm>=4.60",
                        "optuna>=4.0"]

#: nbgrader's JupyterLab plugins a student must not see (only "validate-assignment" stays)
INSTRUCTOR_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                      "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:assignment-list",
                      "@jupyter/nbgrader:menu"]
#: nbgrader's server extensions in the student's JupyterLab: validation only
STUDENT_SERVER_EXTENSIONS = {"nbgrader.server_extensions.validate_assignment": True,
                             "nbgrader.server_extensions.formgrader": False,
                             "nbgrader.server_extensions.assignment_list": False,
                             "nbgrader.server_extensions.course_list": False}
#: named to sort after nbgrader's own files in the same ``*.d`` folders, so these settings win
SETTINGS_NAME = "training_nn_student.json"

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

[tool.setuptools.data-files]
"etc/jupyter/jupyter_server_config.d" = ["jupyter-config/server/{settings}"]
"etc/jupyter/labconfig/page_config.d" = ["jupyter-config/lab/{settings}"]
"""

_README = """# Training Neural Networks: student edition

```bash
python3 -m pip install -c constraints.txt .    # the course library and JupyterLab, tested versions
jupyter lab course/                             # lectures/ to read, assignments/ to work on
```

In an assignment, write your code where it says `# YOUR CODE HERE` and your answers where it says
`YOUR ANSWER HERE`, and run the test cell under each function: when a visible test fails and your
numbers match a typical mistake, its message names it (*Likely cause*). Before you hand in, press
**Validate** in the notebook's toolbar (or run `nbgrader validate course/assignments/NAME/NAME.ipynb`):
it runs the notebook from a fresh kernel and lists every visible test that fails. Heavy training
cells use a GPU when torch sees one and shrink themselves on a CPU.

To read a lecture with every figure and number in place without running it, open its rendering
in `course/lectures/rendered/`; its first cell says which device and size produced it.
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
                                                              dependencies=deps, settings=SETTINGS_NAME))
        zf.writestr(f"{top}/README.md", _README)
        zf.writestr(f"{top}/jupyter-config/server/{SETTINGS_NAME}", json.dumps(
            {"ServerApp": {"jpserver_extensions": STUDENT_SERVER_EXTENSIONS}}, indent=1) + "\n")
        zf.writestr(f"{top}/jupyter-config/lab/{SETTINGS_NAME}", json.dumps(
            {"disabledExtensions": {name: True for name in INSTRUCTOR_PLUGINS}}, indent=1) + "\n")
        zf.write(root / "constraints.txt", f"{top}/constraints.txt")
        for path in sorted((root / "course").rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not _skipped(relative):
                zf.write(path, f"{top}/{relative.as_posix()}")
    return out
