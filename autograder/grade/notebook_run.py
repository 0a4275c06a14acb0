"""Running a notebook's cells in the student's process, each within its own time limit.

What nbgrader's Execute does, through a host session (:mod:`autograder.sandbox.host`): every code cell
in order, its outputs recorded in the notebook as nbformat outputs. A cell past its limit is
interrupted (a ``KeyboardInterrupt`` in its outputs, as nbgrader's ``interrupt_on_timeout``
leaves it) and the next cell runs; what happened on the way becomes :class:`Incident` data:
a time limit met, the memory limit, a write outside the scratch folder, the network, an
output flood. A process that ends (``os._exit``, a crash) stops the run: the kernel died.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import nbformat

from ..sandbox.host import StudentGone, StudentStopped
from .outcome import Incident

__all__ = ["Run", "run_cells", "KERNEL_DIED", "cell_limit_incident"]

KERNEL_DIED = ("kernel died: the notebook ended its own Python process (os._exit, exit(), a crash, "
               "or the memory limit)")
MAX_CELL_REPLY = 64 * 1024 ** 2
OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


@dataclass
class Run:
    incidents: list[Incident] = field(default_factory=list)
    failure: str | None = None         # why the notebook could not be run to its end
    seconds: dict = field(default_factory=dict)   # per cell index: wall seconds in the student's process


def cell_limit_incident(limit: float) -> Incident:
    return Incident("cell time limit", f"a cell ran past its time limit of {limit:.3g} s")


def _clean_output(output) -> dict | None:
    """A well-formed nbformat output from the student's process, or ``None``."""
    if not isinstance(output, dict) or output.get("output_type") not in OUTPUT_TYPES:
        return None
    kind = output["output_type"]
    if kind == "stream":
        if output.get("name") not in ("stdout", "stderr") or not isinstance(output.get("text"), str):
            return None
        return {"output_type": kind, "name": output["name"], "text": output["text"]}
    if kind == "error":
        tb = output.get("traceback")
        if not isinstance(output.get("ename"), str) or not isinstance(output.get("evalue"), str) or \
                not isinstance(tb, list) or not all(isinstance(line, str) for line in tb):
            return None
        return {"output_type": kind, "ename": output["ename"], "evalue": output["evalue"], "traceback": tb}
    data, metadata = output.get("data"), output.get("metadata", {})
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data) or not isinstance(metadata, dict):
        return None
    clean = {"output_type": kind, "data": data, "metadata": metadata}
    if kind == "execute_result":
        count = output.get("execution_count")
        clean["execution_count"] = count if isinstance(count, int) else None
    return clean


def _incidents(outputs: list, lines: dict, max_lines: int) -> list[Incident]:
    found = []
    for output in outputs:
        if output["output_type"] != "error":
            continue
        text = f"{output['ename']}: {output['evalue']}"
        if "MemoryError" in text:
            found.append(Incident("memory limit", "hit the memory limit"))
        elif "Read-only file system" in text or "PermissionError" in text:
            found.append(Incident("write outside", "tried to write outside its folder"))
        elif "Network is unreachable" in text or "Name or service not known" in text:
            found.append(Incident("network", "tried to use the network"))
    total = sum(n for n in lines.values() if isinstance(n, int)) if isinstance(lines, dict) else 0
    if total > max_lines:
        found.append(Incident("output flood", f"output flood ({total} lines in one cell)"))
    return found


def run_cells(nb, session, limit_for, max_lines: int, cells=None) -> Run:
    """Run ``cells`` (default: every code cell of ``nb``) in the session's student process,
    started if need be; each cell's outputs and execution count are set in place."""
    run = Run()
    student = session.student if session.student is not None and session.student.alive() else session.start()
    cells = [c for c in nb.cells if c.cell_type == "code"] if cells is None else cells
    for index, cell in enumerate(cells):
        limit = limit_for(cell)
        began = time.perf_counter()
        try:
            reply = student.request({"op": "cell", "source": cell.source}, limit, "a cell ran",
                                    max_bytes=MAX_CELL_REPLY)
        except StudentStopped as exc:
            if exc.reply is None:
                run.failure = (f"stopped: a cell ran past its time limit of {limit:.3g} s and did not stop "
                               "when interrupted (an endless loop that catches KeyboardInterrupt?)")
                return run
            reply = exc.reply
            run.incidents.append(cell_limit_incident(limit))
        except StudentGone:
            run.failure = KERNEL_DIED
            return run
        run.seconds[index] = time.perf_counter() - began
        raw = reply.get("outputs") if isinstance(reply.get("outputs"), list) else []
        outputs = [o for o in map(_clean_output, raw) if o is not None]
        if len(outputs) < len(raw):
            run.incidents.append(Incident("malformed output", "its process sent malformed outputs"))
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        cell.execution_count = index + 1
        run.incidents.extend(_incidents(outputs, reply.get("lines"), max_lines))
    return run
