"""Is the student's answer their own? A static look at the code cells they wrote.

An item scores 0, with the reason, when the graded function or class (or a helper of
theirs it calls) uses the library routine the exercise asks them to write, or when the
notebook imports the autograder (the reference and the checks). :data:`FORBIDDEN` is the one
list of those routines: this reading uses it, and so does the library-call guard in the
student's process (:class:`autograder.sandbox.guard.Guard`), which catches what names hide
from this reading.
"""
from __future__ import annotations

import ast
import functools

__all__ = ["FORBIDDEN", "library_calls", "imports_autograder"]

# Dotted names a graded answer must not use, the routines the exercises teach: a function or
# a class, or a module that stands for every public routine defined under it.
FORBIDDEN = (
    "torch.optim.Adam", "torch.optim.AdamW", "torch.optim.SGD", "torch.optim.RMSprop",
    "torch.optim.Adagrad", "torch.optim.Adamax", "torch.optim.NAdam", "torch.optim.RAdam",
    "torch.optim.adam", "torch.optim.adamw", "torch.optim.sgd", "torch.optim.rmsprop",
    "torch.optim._functional", "torch.optim._functional.adam", "torch.optim._functional.adamw",
    "torch.optim._functional.sgd", "torch.optim._functional.rmsprop",
    "torch.nn.functional.batch_norm", "torch.nn.functional.layer_norm",
    "torch.nn.functional.instance_norm", "torch.nn.functional.group_norm",
    "torch.nn.functional.dropout", "torch.batch_norm", "torch.layer_norm", "torch.dropout",
    "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.LayerNorm", "torch.nn.Dropout",
    "torch.nn.modules.batchnorm", "torch.nn.modules.normalization", "torch.nn.modules.dropout",
    "sklearn.metrics",
    # the course library's own metrics: confusion counts, precision, recall and F1 over batches
    "course.confusion", "course.metric_tables",
)


@functools.lru_cache(maxsize=256)
def _parse(source: str):
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - no IPython: magics stay and the cell may not parse
        pass
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _dotted(node, aliases: dict) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _aliases(trees) -> dict:
    """``{local name: dotted module path}`` from every import in the student's cells."""
    aliases = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    top = a.name.split(".")[0]
                    aliases[a.asname or top] = a.name if a.asname else top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def _definitions(trees) -> dict:
    defs = {}
    for tree in trees:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs[node.name] = node
    return defs


def _is_forbidden(path: str) -> str | None:
    for prefix in FORBIDDEN:
        if path == prefix or path.startswith(prefix + "."):
            return prefix
    return None


@functools.lru_cache(maxsize=8)
def _reading(cells: tuple[str, ...]):
    """The cells' imports and top-level definitions, read once per notebook (every check asks)."""
    trees = [t for t in map(_parse, cells) if t is not None]
    return _aliases(trees), _definitions(trees)


def library_calls(cells: list[str], name: str) -> list[str]:
    """Forbidden library routines that ``name`` (and the student's helpers it uses) refers to."""
    aliases, defs = _reading(tuple(cells))
    found, seen, todo = [], set(), [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in defs:
            continue
        seen.add(current)
        for node in ast.walk(defs[current]):
            if isinstance(node, (ast.Attribute, ast.Name)):
                path = _dotted(node, aliases)
                if path is None:
                    continue
                hit = _is_forbidden(path)
                if hit and hit not in found:
                    found.append(hit)
                if isinstance(node, ast.Name) and node.id in defs:
                    todo.append(node.id)
    return found


def imports_autograder(cells: list[str]) -> bool:
    """Does any of the student's cells import the autograder (the reference or the checks)?"""
    return _imports_autograder(tuple(cells))


@functools.lru_cache(maxsize=8)
def _imports_autograder(cells: tuple[str, ...]) -> bool:
    for tree in filter(None, map(_parse, cells)):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "autograder" for a in node.names):
                return True
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "autograder":
                return True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id in ("__import__",) and node.args and \
                    isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("autograder"):
                return True
    return False
