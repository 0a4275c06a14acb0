"""Submissions whose nbgrader metadata was lost or changed, rebuilt from their content.

nbgrader grades a notebook by its cells' metadata: a student who pasted their answers into a
fresh notebook, renamed a cell's grade id, flagged a test cell as a solution or added a grade
cell of their own makes nbgrader fail (``OverwriteCells``: ``KeyError: 'grade_id'`` or
"Inconsistent checksums") or score nothing. :func:`metadata_problem` says what is wrong, in
words; :func:`rebuild` takes the released notebook and puts the student's code into it: each
code cell goes to the solution cell whose functions and classes it defines (helpers and
imports with the next answer), copies of the given cells (found by their checksum) are
dropped, and every other cell and all metadata come from the release. No points ever come
from the student's metadata.
"""
from __future__ import annotations

import ast
import copy
import hashlib
from dataclasses import dataclass, field

__all__ = ["RECOVERED", "Recovery", "Prepared", "metadata_problem", "rebuild", "prepare", "defined_names"]

RECOVERED = "recovered: answers matched by the functions they define"


@dataclass(frozen=True)
class Recovery:
    notebook: object | None          # the rebuilt notebook, or None when no answer was found
    cause: str                       # what was wrong with the metadata
    missing: list[str] = field(default_factory=list)  # answers no cell defines


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _flags(meta: dict) -> tuple:
    return bool(meta.get("solution")), bool(meta.get("grade")), bool(meta.get("locked"))


def _checksum(source: str) -> str:
    return hashlib.md5("\n".join(line.rstrip() for line in source.strip().splitlines()).encode()).hexdigest()


def _parse(source: str):
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - magics stay; the cell may not parse
        pass
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def defined_names(source: str) -> set[str]:
    """Top-level functions and classes a cell defines."""
    tree = _parse(source)
    return {n.name for n in (tree.body if tree else [])
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _is_helper(source: str) -> bool:
    """Only imports, definitions and plain assignments: safe to carry along with an answer."""
    tree = _parse(source)
    return bool(tree and tree.body) and all(isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                                           ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
                                                           ast.AnnAssign)) for n in tree.body)


def metadata_problem(student, released) -> str | None:
    """What is wrong with the student's nbgrader metadata that nbgrader cannot mend itself, in
    words a TA can act on; ``None`` when nbgrader can grade the notebook as it is (a deleted,
    duplicated or moved test cell is nbgrader's and the grader's to put back)."""
    given = {_meta(c)["grade_id"]: (c, _flags(_meta(c))) for c in released.cells if _meta(c).get("grade_id")}
    theirs = [(c, _meta(c)) for c in student.cells if _meta(c)]
    if not any(meta.get("grade_id") in given for _, meta in theirs):
        return "no cell carries the assignment's nbgrader metadata (answers pasted into a fresh notebook?)"
    problems = []
    for cell, meta in theirs:
        grade_id = meta.get("grade_id")
        if not grade_id:
            continue  # nbgrader metadata without an id: DropOrphanMetadata clears it
        if grade_id not in given:
            what = "a graded cell the student added" if meta.get("grade") else "a cell id the assignment does not have"
            problems.append(f"{what} ({grade_id!r})")
        elif _flags(meta) != given[grade_id][1]:
            kind = "test" if given[grade_id][1][1] else "solution" if given[grade_id][1][0] else "given"
            problems.append(f"the {kind} cell {grade_id!r} has its nbgrader flags changed")
    ids = {meta.get("grade_id") for _, meta in theirs}
    lost = [gid for gid, (_, flags) in given.items() if flags[0] and gid not in ids]
    if lost:
        problems.append(f"the solution cell{'s' if len(lost) > 1 else ''} {', '.join(map(repr, lost))} "
                        "lost their nbgrader metadata or were renamed")
    return "; ".join(problems) or None


def rebuild(student, released, source, cause: str) -> Recovery:
    """The released notebook with the student's answers put where they belong."""
    answers = {_meta(c)["grade_id"]: defined_names(c.source) for c in source.cells
               if c.cell_type == "code" and _meta(c).get("solution") and _meta(c).get("grade_id")}
    given = {_checksum(c.source) for c in released.cells
             if c.cell_type == "code" and not _meta(c).get("solution")}
    slots: dict[str, list[str]] = {}
    elsewhere, pending, last = set(), [], None
    for cell in student.cells:
        if cell.cell_type != "code" or not cell.source.strip() or _checksum(cell.source) in given:
            continue
        names = defined_names(cell.source)
        matched = [gid for gid, wanted in answers.items() if names & wanted]
        if matched:
            slots.setdefault(matched[0], []).extend(pending + [cell.source])
            elsewhere.update(matched[1:])
            pending, last = [], matched[0]
        elif _is_helper(cell.source):
            pending.append(cell.source)
    if pending and last is not None:
        slots[last].extend(pending)
    missing = sorted(n for gid, wanted in answers.items() if gid not in slots and gid not in elsewhere
                     for n in wanted)
    if not slots:
        return Recovery(None, cause, missing)
    notebook = copy.deepcopy(released)
    for cell in notebook.cells:
        grade_id = _meta(cell).get("grade_id")
        if grade_id in slots:
            cell.source = "\n\n".join(slots[grade_id])
        elif grade_id in elsewhere:
            cell.source = "# answered in another cell of this submission"
    return Recovery(notebook, cause, missing)


@dataclass(frozen=True)
class Prepared:
    """What the grader runs for one submission: the notebook's bytes, or why there is none."""

    notebook: bytes | None
    problem: str | None = None    # cannot be graded: the status
    incident: str | None = None   # graded, with this said in the status
    note: str | None = None       # what was wrong with the metadata, for the TA


def prepare(path, released, source) -> Prepared:
    """The student's notebook as it is when nbgrader can use its metadata; rebuilt when not."""
    import nbformat

    raw = open(path, "rb").read()
    student = nbformat.reads(raw.decode("utf-8"), as_version=4)
    cause = metadata_problem(student, released)
    if cause is None:
        return Prepared(raw)
    recovery = rebuild(student, released, source, cause)
    if recovery.notebook is None:
        return Prepared(None, f"cannot be graded: its nbgrader metadata is unusable ({cause}) and no "
                              f"code cell defines {', '.join(recovery.missing) or 'an answer'}: check "
                              "the function names, or grade it by hand")
    missing = f"; no cell defines {', '.join(recovery.missing)}" if recovery.missing else ""
    return Prepared(nbformat.writes(recovery.notebook).encode("utf-8"), incident=RECOVERED + missing,
                    note=f"nbgrader metadata: {cause}")
