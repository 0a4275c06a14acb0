"""Grading a class: each submission executed alone and in parallel, one gradebook written by one writer.

The grading course lives under ``OUT/nbgrader``: ``source`` (generated once into the
gradebook), ``submitted`` (each student's notebook as handed in), ``executed`` (the notebook
after its sandboxed run and the trusted hidden checks), ``autograded``, ``feedback`` and
``gradebook.db``. Submissions run through an executor (``concurrent.futures``-style
``submit``; a thread pool of worker processes by default, Dask distributed's
``client.get_executor()`` works unchanged), each in a private course of its own
(:mod:`autograder.worker`). As each comes back, this process alone runs nbgrader's autograde
on the executed notebook with execution switched off: nbgrader's ``SaveAutoGrades`` and
late-penalty plugin write the one SQLite gradebook, never two writers at once. Rerunning
regrades idempotently; a resubmission replaces the earlier one. With the default executor
and the sandbox, each parallel job borrows a warm zygote (:mod:`autograder.warm_kernels`)
that forks the student's kernel with torch and matplotlib already imported.
"""
from __future__ import annotations

import os
import shutil
import sys
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .gradebook import manual_cells, read_gradebook
from .release import make_api
from .settings import COURSE_ROOT, GradingSettings
from .intake import Refusal, read_class
from .submissions import Submission
from .worker import GRADED, explain_failure, grade_submission, make_job

__all__ = ["StudentResult", "GradingRun", "grade_class", "GRADED", "is_graded", "SequentialExecutor",
           "grading_api"]

_warned_no_sandbox = False


def is_graded(status: str) -> bool:
    """``graded``, or ``graded (what happened on the way)``: nbgrader scored the notebook."""
    return status == GRADED or status.startswith(GRADED + " (")


@dataclass
class StudentResult:
    student_id: str
    score: float
    max_score: float
    status: str = GRADED
    cells: dict[str, float] = field(default_factory=dict)
    feedback: Path | None = None
    note: str | None = None
    diagnoses: dict[str, list[str]] = field(default_factory=dict)  # graded cell: mistakes the checks named
    entry: str | None = None          # the file of the class folder that was graded
    submitted_at: str | None = None   # the time late penalties were judged on
    lms: dict = field(default_factory=dict)  # the LMS's ids and name, for its export
    absent: bool = False              # nothing handed in (a roster student): not a grading failure
    auto_score: float = 0.0           # points of the autograded cells (a TA's formgrader override included)
    manual_score: float = 0.0         # points given so far to the manually graded (written) answers
    pending: list[str] = field(default_factory=list)  # written answers still to grade in formgrader

    @property
    def graded(self) -> bool:
        return is_graded(self.status)


@dataclass
class GradingRun:
    assignment: str
    results: list[StudentResult]
    cell_names: list[str]
    max_score: float
    course_dir: Path
    cell_max: dict[str, float] = field(default_factory=dict)
    layout: str = "folder"
    refused: list[Refusal] = field(default_factory=list)
    manual_cells: list[str] = field(default_factory=list)  # graded by hand: written answers

    def pending_points(self, result: StudentResult) -> float:
        """The points of ``result``'s written answers that still await manual grading."""
        return sum(self.cell_max.get(name, 0.0) for name in result.pending)


class SequentialExecutor(Executor):
    """``submit`` runs the task at once, in this thread: plain sequential grading."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def grading_api(work: Path, settings: GradingSettings):
    """nbgrader's API on the grading course ``work`` (``OUT/nbgrader``), scoring only."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, SaveAutoGrades

    return make_api(work, settings, **{
        "CourseDirectory.source_directory": "source",
        "CourseDirectory.release_directory": "release",
        "CourseDirectory.submitted_directory": "executed",
        "CourseDirectory.autograded_directory": "autograded",
        "CourseDirectory.feedback_directory": "feedback",
        # the notebook was executed by a worker: here nbgrader only scores and records it
        "Autograde.sanitize_preprocessors": [CheckCellMetadata],
        "Autograde.autograde_preprocessors": [ClearMetadataPreprocessor, SaveAutoGrades,
                                              AssignLatePenalties, CheckCellMetadata],
    })


def _prepare_course(assignment: str, work: Path, source_root: Path, settings: GradingSettings):
    """The grading course under ``work``: the source notebook, generated into the gradebook."""
    source = source_root / settings.source_directory / assignment / f"{assignment}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"no source notebook for assignment {assignment!r}: {source}")
    target = work / "source" / assignment
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target / source.name)
    api = grading_api(work, settings)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError(f"nbgrader could not prepare {assignment!r}:\n{result.get('log', '')}")
    with api.gradebook as gb:
        gb.update_or_create_assignment(assignment, duedate=settings.due_date)
    from .formgrader import write_formgrader_config

    write_formgrader_config(work, settings)
    return api


def _hidden_paths(source_root: Path, settings: GradingSettings, out: Path, submissions: Path) -> list[Path]:
    """What student code must not see: the reference and checks, the solutions, the grading
    output (gradebook included), the class's submissions, and every other folder of the
    course repository and of the instructor's course (tests with correct implementations,
    ``.git`` whose objects hold the solutions, earlier grading runs) but the student library
    ``course/`` and the Python environment the kernel runs in."""
    import autograder
    import course

    package_root = Path(autograder.__file__).resolve().parent
    keep = {Path(course.__file__).resolve().parent, Path(sys.prefix).resolve(),
            Path(sys.base_prefix).resolve()}
    hidden = [package_root, (source_root / settings.source_directory).resolve(), out, submissions.resolve()]
    for root in {package_root.parent, source_root}:
        if root == Path(root.anchor):  # never hide a whole file system's top folders
            continue
        for entry in sorted(root.iterdir()):
            entry = entry.resolve()
            if entry.is_dir() and not any(k == entry or k.is_relative_to(entry) for k in keep) \
                    and entry not in hidden:
                hidden.append(entry)
    return hidden


def _warm_pool(settings: GradingSettings, size: int, threads: int, hidden: list[Path], source: bytes):
    """One zygote per parallel job (:mod:`autograder.warm_kernels`), or ``None`` for cold kernels
    (asked for, or no sandbox to run them in)."""
    import nbformat

    from .sandbox import SandboxPolicy, bwrap_available
    from .verdicts import kernel_hidden
    from .warm_kernels import WarmKernelPool
    from .worker import thread_env

    if not (settings.warm_kernels and settings.sandbox and bwrap_available()) or size < 1:
        return None
    source_nb = nbformat.reads(source.decode("utf-8"), as_version=4)
    # the same view as a cold kernel's (worker.run_job)
    policy = SandboxPolicy(scratch=Path("/nonexistent"), hidden=kernel_hidden(hidden, source_nb),
                           file_bytes=settings.file_limit_mb * 1024 ** 2, env=thread_env(threads))
    return WarmKernelPool(size, policy, threads)


def _grade_with(pool, job: dict) -> dict:
    """Grade one job, with a warm kernel from ``pool`` when there is one ready."""
    if pool is None:
        return grade_submission(job)
    zygote = pool.acquire()
    try:
        if zygote is not None:
            job = {**job, "zygote": {"socket": zygote.socket_path, "work": str(zygote.work)}}
        return grade_submission(job)
    finally:
        if zygote is not None:
            pool.release(zygote)


def _say_once_without_sandbox(settings: GradingSettings) -> None:
    global _warned_no_sandbox
    from .sandbox import NO_SANDBOX_MESSAGE, bwrap_available

    if _warned_no_sandbox:
        return
    if not settings.sandbox:
        print("warning: grading with --no-sandbox: student code runs with your rights (memory "
              "and time limits only).", file=sys.stderr)
        _warned_no_sandbox = True
    elif not bwrap_available():
        print(NO_SANDBOX_MESSAGE, file=sys.stderr)
        _warned_no_sandbox = True


def _record(api, work: Path, assignment: str, submission: Submission, outcome: dict) -> str:
    """Stage the executed notebook and let nbgrader score it into the gradebook; the status."""
    sid = submission.student_id
    original = work / "submitted" / sid / assignment
    if original.exists():
        shutil.rmtree(original)
    original.mkdir(parents=True)
    shutil.copyfile(submission.notebook, original / f"{assignment}.ipynb")
    executed = work / "executed" / sid / assignment
    if executed.exists():
        shutil.rmtree(executed)  # a resubmission replaces the earlier one
    if outcome.get("status") != GRADED or not outcome.get("notebook"):
        _forget(api, assignment, sid)  # no stale grade from an earlier run stays behind
        return str(outcome.get("status") or "grading failed")
    executed.mkdir(parents=True)
    (executed / f"{assignment}.ipynb").write_bytes(outcome["notebook"])
    if submission.timestamp:
        (executed / "timestamp.txt").write_text(submission.timestamp)
    result = api.autograde(assignment, sid, force=True, create=True)
    if not result.get("success"):
        return explain_failure(result)
    incidents = [str(i)[:160] for i in outcome.get("incidents") or []]
    return GRADED + (f" ({'; '.join(incidents)})" if incidents else "")


def _forget(api, assignment: str, student_id: str) -> None:
    from nbgrader.api import MissingEntry

    with api.gradebook as gb:
        try:
            gb.remove_submission(assignment, student_id)
        except MissingEntry:
            pass


def _feedback(api, work: Path, out: Path, assignment: str, student_id: str) -> Path | None:
    result = api.generate_feedback(assignment, student_id, force=True)
    html = work / "feedback" / student_id / assignment / f"{assignment}.html"
    if not result.get("success") or not html.is_file():
        return None
    target = out / "feedback" / student_id / f"{assignment}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(html, target)
    return target


def _default_executor(settings: GradingSettings, jobs: int | None) -> Executor:
    workers = jobs if jobs is not None else settings.jobs
    workers = workers or os.cpu_count() or 1
    return SequentialExecutor() if workers == 1 else ThreadPoolExecutor(max_workers=workers)


def grade_class(assignment: str, submissions: Path, out: Path,
                settings: GradingSettings = GradingSettings(), source_root: Path = COURSE_ROOT,
                on_progress: Callable[[Submission, str, int, int], None] | None = None,
                executor: Executor | None = None, jobs: int | None = None, layout: str | None = None,
                pattern: str | None = None, roster=None, zone=None, only: set[str] | None = None) -> GradingRun:
    """Autograde every submission of ``assignment`` and write feedback; return the results.

    ``submissions`` is a class folder or ``.zip`` in any layout of :mod:`autograder.intake`
    (``layout``, ``pattern``, ``roster`` and ``zone`` go to :func:`~autograder.intake.read_class`).
    A submission that cannot be graded gets its reason as its status and a score of 0; the rest
    of the class is graded. ``only``: grade these students alone (the rest is left as it is in
    ``out``). ``executor`` runs the submissions (``submit``, futures that
    ``concurrent.futures.as_completed`` accepts); by default ``jobs`` (or ``settings.jobs``,
    or one per core) worker processes. ``on_progress(submission, status, done, total)`` is
    called after each student.
    """
    from datetime import timezone

    import nbformat

    from .layouts import parse_time
    from .recovery import prepare

    out = Path(out).resolve()
    work = out / "nbgrader"
    work.mkdir(parents=True, exist_ok=True)
    source_root = Path(source_root).resolve()
    zone = zone or timezone.utc
    intake = read_class(Path(submissions), assignment, work, layout=layout, pattern=pattern, roster=roster,
                        due=parse_time(settings.due_date), zone=zone, repository=source_root)
    found = intake.submissions
    if only:
        known = {s.student_id for s in found}
        found = [s for s in found if s.student_id in only] + [
            Submission(sid, None, "no submission in the class folder", absent=True) for sid in sorted(only - known)]
    api = _prepare_course(assignment, work, source_root, settings)
    _say_once_without_sandbox(settings)

    source = (work / "source" / assignment / f"{assignment}.ipynb").read_bytes()
    released = nbformat.read(work / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    source_nb = nbformat.reads(source.decode("utf-8"), as_version=4)
    gradebook = (work / "gradebook.db").read_bytes()
    hidden = _hidden_paths(source_root, settings, out, Path(submissions))
    statuses: dict[str, str] = {}
    feedback: dict[str, Path | None] = {}
    diagnoses: dict[str, dict] = {}
    notes = {s.student_id: s.note for s in found}
    done = 0

    def finish(submission: Submission, status: str) -> None:
        nonlocal done
        statuses[submission.student_id] = status
        done += 1
        if on_progress is not None:
            on_progress(submission, status, done, len(found))

    own_executor = executor is None
    executor = executor or _default_executor(settings, jobs)
    workers = getattr(executor, "_max_workers", None) or jobs or settings.jobs or os.cpu_count() or 1
    threads = max(1, (os.cpu_count() or 1) // workers)
    pending = [s for s in found if not s.problem]
    # warm kernels are local processes: only for the executor that runs jobs on this machine
    pool = _warm_pool(settings, min(workers, len(pending)), threads, hidden, source) \
        if own_executor and pending else None
    try:
        futures = {}
        for submission in found:
            prepared = None if submission.problem else prepare(submission.notebook, released, source_nb)
            problem = submission.problem or prepared.problem
            if problem:
                finish(submission, problem)
                continue
            job = make_job(assignment, submission.student_id, prepared.notebook,
                           source, gradebook, settings, hidden, threads)
            futures[executor.submit(_grade_with, pool, job)] = (submission, prepared)
        for future in as_completed(futures):
            submission, prepared = futures[future]
            try:
                outcome = future.result()
                if prepared.incident:
                    outcome = {**outcome, "incidents": [prepared.incident, *(outcome.get("incidents") or [])]}
                    notes[submission.student_id] = "; ".join(filter(None, [notes[submission.student_id],
                                                                           prepared.note]))
                status = _record(api, work, assignment, submission, outcome)
                diagnoses[submission.student_id] = outcome.get("diagnoses") or {}
                if is_graded(status):
                    feedback[submission.student_id] = _feedback(api, work, out, assignment,
                                                                submission.student_id)
            except Exception as exc:  # noqa: BLE001 - one student's failure must not stop the class
                status = f"grading failed: {type(exc).__name__}: {exc}"[:200]
            finish(submission, status)
    finally:
        if own_executor:
            executor.shutdown(wait=True)
        if pool is not None:
            pool.close()

    cells, max_score, scores = read_gradebook(api, assignment)
    results = []
    for submission in found:
        sid, status = submission.student_id, statuses[submission.student_id]
        common = dict(note=notes[sid], entry=submission.entry, submitted_at=submission.timestamp,
                      lms=dict(submission.lms), absent=submission.absent)
        if is_graded(status) and sid in scores:
            got = scores[sid]
            if got.penalty:
                status = _with_incident(status, f"late by {got.seconds_late / 3600:.1f} h: penalty {got.penalty:g}")
            elif settings.due_date and not submission.timestamp and intake.layout != "canvas":
                # Canvas marks a late file LATE in its name: an unmarked one is on time
                status = _with_incident(status, "no submission time known: no late penalty applied")
            results.append(StudentResult(sid, got.score, max_score, status, got.cells, feedback.get(sid),
                                         diagnoses=diagnoses.get(sid, {}), auto_score=got.auto_score,
                                         manual_score=got.manual_score, pending=got.pending, **common))
        else:
            results.append(StudentResult(sid, 0.0, max_score, status, {}, None, **common))
    return GradingRun(assignment, results, [name for name, _ in cells], max_score, work,
                      dict(cells), intake.layout, intake.refused, manual_cells(api, assignment))


def _with_incident(status: str, incident: str) -> str:
    if status == GRADED:
        return f"{GRADED} ({incident})"
    return status[:-1] + f"; {incident})"
