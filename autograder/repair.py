"""Repairs nbgrader's sanitizing lacks, as one small nbconvert preprocessor.

nbgrader's ``DeduplicateIds`` strips the nbgrader metadata of a duplicated graded cell down
to a dict without ``grade_id``, and ``OverwriteCells.add_missing_cells`` then fails on it
(``KeyError: 'grade_id'``), so the whole notebook would go ungraded. A cell whose nbgrader
metadata names no ``grade_id`` is an ordinary cell: :class:`DropOrphanMetadata` says so.
"""
from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["DropOrphanMetadata"]


class DropOrphanMetadata(Preprocessor):
    """Remove ``metadata.nbgrader`` from cells that have it without a ``grade_id``."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader")
        if isinstance(meta, dict) and not meta.get("grade_id"):
            del cell.metadata["nbgrader"]
        return cell, resources
