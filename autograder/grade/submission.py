"""Grading one submission, alone: a :class:`Job` in, an :class:`~autograder.grade.outcome.Outcome` out.

:func:`grade_submission` is what an executor runs: plain data in and out, so it works the same
in a thread pool on this machine or on a Dask worker elsewhere. It forks a worker process from
:mod:`multiprocessing`'s fork server (which has imported nbgrader, torch and the checks once)
and kills it when the submission's time is up. In the worker (:func:`run_submission`):

1. nbgrader's sanitizing preprocessors with the assignment's gradebook (a deleted graded cell
   comes back, a locked cell is restored), then the cell-order repair (:mod:`autograder.grade.repair`);
2. the hidden blocks taken out, every cell run in the student's process on a student host
   (:mod:`autograder.grade.notebook_run`), each within its own limit (:mod:`autograder.publish.cell_times`);
3. the hidden checks judged here, with stand-ins (:mod:`autograder.grade.verdicts`), the verdicts
   written into the cells; nbgrader's ``IgnorePattern`` and ``LimitOutput``.

Nothing here writes the class's gradebook: the class run alone does (:mod:`autograder.grade.class_run`).
"""
from __future__ import annotations

import copy
import multiprocessing
import re
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

from .outcome import Incident, Outcome, graded, not_graded
from ..settings import GradingSettings

__all__ = ["Job", "grade_submission", "fork_server", "start_fork_server", "run_submission", "explain_failure", "explain_exception", "PRELOAD"]

#: what the fork server imports once (and warms: :mod:`autograder.grade.preload`), so that each
#: submission's worker starts warm
PRELOAD = ["autograder.grade.submission", "autograder.grade.stand_ins", "autograder.grade.notebook_run", "autograder.checks.optimizers",
           "autograder.checks.auc", "autograder.checks.metrics", "autograder.checks.normalization_backward",
           "autograder.checks.dropout", "nbgrader.preprocessors", "nbformat", "autograder.grade.preload"]


@dataclass(frozen=True)
class Job:
    """Everything a worker needs, as plain data (picklable, no open files)."""

    assignment: str
    student_id: str
    notebook: bytes               # the student's notebook (or its rebuilt version)
    source: bytes                 # the source notebook, hidden tests included
    gradebook: bytes              # the assignment's gradebook, for nbgrader's sanitizing
    settings: GradingSettings
    hidden: tuple[str, ...]       # folders student code must not see
    cell_seconds: dict = field(default_factory=dict)  # the source cells' own times (cell_times)
    threads: int = 1              # CPU threads each of its processes may use
    host: str | None = None       # a ready student host's address on this machine, if any
    created: float = 0.0          # time.time() when the job was handed to its worker (a profile)


# ---------------------------------------------------------------- nbgrader's failures, in words

NBGRADER_CAUSES = [
    (re.compile(r"KeyError: '?grade_id'?"),
     "nbgrader's OverwriteCells stopped (KeyError 'grade_id'): a cell's nbgrader metadata names a "
     "grade id the assignment does not have (renamed, or a cell the student added); fix or clear "
     "that cell's metadata in the submitted notebook and regrade it with --student"),
    (re.compile(r"Inconsistent checksums for cell (\S+)"),
     "nbgrader's OverwriteCells stopped (inconsistent checksums for cell {0}): the student changed "
     "that locked cell's nbgrader flags (a test cell marked as a solution?); restore its metadata "
     "and regrade it with --student"),
    (re.compile(r"MissingEntry: No such (\w+ cell)[^\n]*"),
     "nbgrader's gradebook has no {0} the notebook names (a cell id renamed by the student)"),
]


def _explain_text(text: str) -> str:
    if "DeadKernelError" in text or "kernel died" in text.lower():
        from .notebook_run import KERNEL_DIED

        return KERNEL_DIED
    for pattern, words in NBGRADER_CAUSES:
        match = pattern.search(text)
        if match:
            return "autograde failed: " + words.format(*match.groups())
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[\w.]*(Error|Exception)\b", line)]
    if raised:
        return f"autograde failed: {raised[-1][:200]}"
    for line in reversed(lines):
        if ("Error" in line or "error" in line) and "see the the above traceback" not in line:
            return f"autograde failed: {line[:200]}"
    return f"autograde failed: {lines[-1][:200] if lines else 'unknown error'}"


def explain_failure(result: dict) -> str:
    """Why nbgrader's API (``api.autograde``'s result) failed, in words a TA can act on."""
    return _explain_text((result.get("error") or "") + "\n" + (result.get("log") or ""))


def explain_exception(exc: BaseException) -> str:
    """Why one of nbgrader's preprocessors raised, in words a TA can act on."""
    return _explain_text("".join(traceback.format_exception(exc)))


# ---------------------------------------------------------------- in the worker

def _sanitize(nb, job: Job, folder: Path):
    """nbgrader's sanitizing preprocessors, as its autograde runs them, with the gradebook."""
    from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells,
                                        OverwriteKernelspec)

    from .repair import DropOrphanMetadata
    from ..settings import nbgrader_config

    (folder / "gradebook.db").write_bytes(job.gradebook)
    config = nbgrader_config(folder, job.settings)
    resources = {"nbgrader": {"notebook": job.assignment, "assignment": job.assignment,
                              "student": job.student_id, "db_url": f"sqlite:///{folder / 'gradebook.db'}"}}
    for kind in (ClearOutput, DeduplicateIds, DropOrphanMetadata, OverwriteKernelspec, OverwriteCells,
                 CheckCellMetadata):
        nb, resources = kind(config=config)(nb, resources)  # as nbconvert calls it: only when enabled
    return nb


def _finish(nb, settings: GradingSettings):
    """nbgrader's stderr filter and output limits, as its autograde applies them."""
    from nbgrader.preprocessors import IgnorePattern, LimitOutput

    from ..settings import nbgrader_config

    config = nbgrader_config(Path(tempfile.gettempdir()), settings)
    for kind in (IgnorePattern, LimitOutput):
        nb, _ = kind(config=config)(nb, {})
    return nb


def _student_cells(nb) -> list[str]:
    """The code the student's definitions come from: every code cell but the graded tests."""
    return [c.source for c in nb.cells if c.cell_type == "code"
            and not (c.metadata.get("nbgrader", {}) or {}).get("grade")]


def _cells_to_rerun(nb) -> list:
    """For a fresh process: copies of the non-test code cells up to the last graded test cell."""
    grades = [i for i, c in enumerate(nb.cells) if (c.metadata.get("nbgrader", {}) or {}).get("grade")]
    last = max(grades, default=len(nb.cells))
    return [copy.deepcopy(c) for c in nb.cells[:last]
            if c.cell_type == "code" and not (c.metadata.get("nbgrader", {}) or {}).get("grade")]


def run_submission(job: Job) -> Outcome:
    """Grade ``job`` in this process (a worker); its outcome."""
    import nbformat

    from ..publish.cell_times import CellTimes, limits
    from ..sandbox.host import Host, Session, StudentGone, preload_for
    from .integrity import FORBIDDEN
    from .notebook_run import run_cells
    from .repair import restore_order, restored_cells
    from ..sandbox.policy import student_policy
    from .stand_ins import CallBudget, StudentSide
    from .verdicts import judge, take_hidden, write_verdicts

    settings, timings = job.settings, {"worker start": time.time() - job.created}
    began, cpu = time.perf_counter(), time.process_time()
    nb = nbformat.reads(job.notebook.decode("utf-8"), as_version=4)
    source = nbformat.reads(job.source.decode("utf-8"), as_version=4)
    with tempfile.TemporaryDirectory(prefix="ag-sanitize-") as folder:
        try:
            nb = _sanitize(nb, job, Path(folder))
        except Exception as exc:  # noqa: BLE001 - nbgrader refusing the notebook is this student's status
            return Outcome(job.student_id, not_graded(explain_exception(exc)), timings={"sanitize": time.perf_counter() - began})
    incidents = []
    order = [c.metadata["nbgrader"]["grade_id"] for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id")]
    if restore_order(nb, order):
        incidents.append(Incident("cells moved back", "graded cells were moved back to their place"))
    if restored_cells(nb):
        incidents.append(Incident("cell put back", "a deleted graded cell was put back"))
    items = take_hidden(nb)
    student_cells = _student_cells(nb)
    limit = limits(CellTimes("", dict(job.cell_seconds)), settings)
    timings["sanitize"] = time.perf_counter() - began
    own_host = None
    address = job.host
    if address is None:  # no host lent by the class run (another executor): one for this submission
        preload = preload_for([c.source for c in source.cells if c.cell_type == "code"])
        own_host = Host(student_policy(settings, job.hidden, job.threads), job.threads, FORBIDDEN,
                        settings.max_output_lines, preload)
        if not own_host.ready(180):
            own_host.close()
            return Outcome(job.student_id, not_graded("grading failed: the student host did not start"))
        address = own_host.address
    session = Session(address, cold=not settings.warm_kernels)
    try:
        mark = time.perf_counter()
        try:
            session.start()
        except StudentGone as exc:
            return Outcome(job.student_id, not_graded(f"grading failed: {exc}"), timings=timings)
        timings["student process start"] = time.perf_counter() - mark
        mark = time.perf_counter()
        run = run_cells(nb, session, limit, settings.max_output_lines)
        timings["execution"] = time.perf_counter() - mark
        timings["execution cpu (student)"] = session.cpu
        if run.failure:
            return Outcome(job.student_id, not_graded(run.failure), timings=timings)

        def restart():
            try:
                session.start()
            except StudentGone:
                return None
            cells = _cells_to_rerun(nb)
            again = run_cells(nb, session, limit, settings.max_output_lines, cells)
            return None if again.failure else session.student

        side = StudentSide(session, restart, CallBudget(settings.call_time_factor, settings.call_time_floor,
                                                        settings.call_timeout))
        mark, cpu_checks, student_cpu = time.perf_counter(), time.process_time(), session.cpu
        checks: dict = {}
        verdicts = judge(items, side, student_cells, checks)
        timings["checks"] = time.perf_counter() - mark
        timings["checks cpu (grader)"] = time.process_time() - cpu_checks
        timings["checks cpu (student)"] = session.cpu - student_cpu
        timings.update({f"check {k}": v for k, v in checks.items()})
    finally:
        session.close()
        if own_host is not None:
            own_host.close()
    mark = time.perf_counter()
    diagnoses = write_verdicts(nb, items, verdicts)
    nb = _finish(nb, settings)
    incidents += run.incidents + side.incidents + [v.incident for vs in verdicts.values() for v in vs if v.incident]
    notebook = nbformat.writes(nb).encode("utf-8")
    timings["finish"] = time.perf_counter() - mark
    timings["worker"] = time.perf_counter() - began
    timings["worker cpu"] = time.process_time() - cpu
    return Outcome(job.student_id, graded(*incidents), notebook, diagnoses, timings)


def _work(job: Job, connection) -> None:
    """The worker process: grade, send the outcome back."""
    import os
    import warnings

    warnings.filterwarnings("ignore")
    os.environ.update({"OMP_NUM_THREADS": str(job.threads), "MKL_NUM_THREADS": str(job.threads)})
    try:
        import torch

        torch.set_num_threads(job.threads)
    except ImportError:
        pass
    try:
        outcome = run_submission(job)
    except Exception as exc:  # noqa: BLE001 - one submission's failure is its own status
        outcome = Outcome(job.student_id, not_graded(f"grading failed: {type(exc).__name__}: {exc}"[:200]))
    connection.send(outcome)
    connection.close()


_CONTEXT = []


def fork_server():
    """multiprocessing's fork server, preloaded with :data:`PRELOAD` (started on first use)."""
    if not _CONTEXT:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _CONTEXT.append(context)
    return _CONTEXT[0]


def start_fork_server() -> None:
    """Start the fork server now: it imports :data:`PRELOAD` while the caller goes on."""
    from multiprocessing import forkserver

    fork_server()
    forkserver.ensure_running()


def grade_submission(job: Job) -> Outcome:
    """Grade ``job`` in a worker process of its own, within ``submission_timeout`` seconds."""
    began = time.monotonic()
    context = fork_server()
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_work, args=(replace(job, created=time.time()), sender),
                             name=f"grading {job.student_id}")
    worker.start()
    sender.close()
    deadline = began + job.settings.submission_timeout
    outcome = None
    try:
        while outcome is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if receiver.poll(min(remaining, 1.0)):
                try:
                    outcome = receiver.recv()
                except (EOFError, OSError):
                    break
            elif not worker.is_alive() and not receiver.poll(0):
                break
    finally:
        if worker.is_alive():
            worker.kill()  # the worker, and with it its session: the host ends the student's process
        worker.join()
        worker.close()
        receiver.close()
    seconds = time.monotonic() - began
    if outcome is None:
        if seconds >= job.settings.submission_timeout:
            status = not_graded(f"timed out: grading stopped after {job.settings.submission_timeout} s")
        else:
            status = not_graded("grading crashed: the grading process ended without a result")
        outcome = Outcome(job.student_id, status)
    outcome.timings["submission"] = seconds
    return outcome
