"""Where the browser tests find the course: the repository's lectures and assignments."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LECTURES = sorted((REPO / "course" / "lectures").glob("*.ipynb"))
#: the lecture with the optimizer-path explorer (sliders for iterations and learning rate)
OPTIMIZERS_LECTURE = next((p for p in LECTURES if "optimizer" in p.stem), None)
#: the optimizers assignment, as released to students and as the instructor wrote it
RELEASE = REPO / "course" / "assignments" / "optimizers" / "optimizers.ipynb"
SOURCE = REPO / "solutions" / "optimizers" / "optimizers.ipynb"
