"""Small lecture notebooks written for the publishing tests (render, slides)."""
from pathlib import Path

import nbformat


def write_lecture(path: Path, cells) -> Path:
    """A notebook of ``cells`` with the python3 kernel, written at ``path`` (folders made)."""
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
