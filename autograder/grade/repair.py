"""Repairs of a submitted notebook's cells that nbgrader's sanitizing leaves undone.

- :class:`DropOrphanMetadata`: nbgrader's ``DeduplicateIds`` strips the nbgrader metadata of a
  duplicated graded cell down to a dict without ``grade_id``, and ``OverwriteCells.
  add_missing_cells`` then fails on it (``KeyError: 'grade_id'``), so the whole notebook would
  go ungraded. A cell whose nbgrader metadata names no ``grade_id`` is an ordinary cell.
- :func:`restore_order`: graded and solution cells the student moved go back to the source's
  order, each with the unmarked cells that followed it (nbgrader runs them where they stand,
  so a test cell moved above its solution would fail on a NameError).
- :func:`restored_cells`: how many graded cells nbgrader's ``add_missing_cells`` put back.
"""
from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["DropOrphanMetadata", "restore_order", "restored_cells"]

#: the start of the source nbgrader gives a graded cell it puts back (``missing_cell_message``)
RESTORED_MARK = "This cell (id:"


class DropOrphanMetadata(Preprocessor):
    """Remove ``metadata.nbgrader`` from cells that have it without a ``grade_id``."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader")
        if isinstance(meta, dict) and not meta.get("grade_id"):
            del cell.metadata["nbgrader"]
        return cell, resources


def _grade_id(cell):
    return (cell.metadata.get("nbgrader", {}) or {}).get("grade_id")


def restore_order(nb, order: list[str]) -> bool:
    """Put ``nb``'s nbgrader cells back in ``order`` (the source's grade ids); did any move?"""
    rank = {grade_id: i for i, grade_id in enumerate(order)}
    head, segments = [], []
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id in rank:
            segments.append((rank[grade_id], [cell]))
        elif segments:
            segments[-1][1].append(cell)
        else:
            head.append(cell)
    ranks = [r for r, _ in segments]
    if ranks == sorted(ranks):
        return False
    segments.sort(key=lambda seg: seg[0])
    nb.cells = head + [cell for _, cells in segments for cell in cells]
    return True


def restored_cells(nb) -> int:
    """Graded cells nbgrader put back because the student had deleted them."""
    return sum(1 for c in nb.cells if c.cell_type == "code" and _grade_id(c)
               and c.source.lstrip("# ").startswith(RESTORED_MARK))
