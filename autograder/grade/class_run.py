"""Grading a class: each submission executed alone and in parallel, one gradebook written by one writer.

The grading course lives under ``OUT/nbgrader``: ``source`` (generated once into the
gradebook), ``submitted`` (each student's notebook as handed in), ``executed`` (the notebook
after its sandboxed run and the trusted hidden checks), ``autograded``, ``feedback`` and
``gradebook.db``. Submissions run through an executor (``concurrent.futures``-style
``submit``; a thread pool by default, Dask distributed's ``client.get_executor()`` works
unchanged), each in a worker process of its own (:mod:`autograder.grade.submission`). With the
default executor, each parallel job borrows a student host (:mod:`autograder.sandbox.host`), one
sandboxed process per job that has imported torch and matplotlib once and forks each
student's process. As each submission comes back, this process alone has nbgrader score the
executed notebook (its autograde with execution switched off: ``SaveAutoGrades`` and the
late-penalty plugin write the one SQLite gradebook, never two writers at once); its feedback
page is then rendered in a background process (:mod:`autograder.grade.feedback`) while the
next scores are recorded. Rerunning regrades idempotently; a resubmission replaces the earlier one.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from .feedback import FeedbackPool
from .gradebook import grading_api, manual_cells, new_gradebook, read_gradebook
from .intake import Refusal, read_class
from .layouts import MARKS_LATE
from .outcome import Incident, Outcome, Status, graded, not_graded
from ..settings import COURSE_ROOT, GradingSettings
from .submission import Job, explain_failure, grade_submission, start_fork_server
from .submissions import Submission

__all__ = ["StudentResult", "GradingRun", "grade_class", "SequentialExecutor", "grading_api"]

_warned_no_sandbox = False


@dataclass
class StudentResult:
    student_id: str
    score: float
    max_score: float
    status: Status = field(default_factory=graded)
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
    timings: dict = field(default_factory=dict)  # seconds per phase of its grading (a profile)

    @property
    def graded(self) -> bool:
        return self.status.graded


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
    timings: dict = field(default_factory=dict)  # seconds of the class run's own steps (a profile)

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


def _prepare_course(assignment: str, work: Path, source_root: Path, settings: GradingSettings):
    """The grading course under ``work``: the source notebook, generated into the gradebook."""
    source = _source(source_root, settings, assignment)
    if not source.is_file():
        raise FileNotFoundError(f"no source notebook for assignment {assignment!r}: {source}")
    target = work / "source" / assignment
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target / source.name)
    new_gradebook(work / "gradebook.db")
    api = grading_api(work, settings)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError(f"nbgrader could not prepare {assignment!r}:\n{result.get('log', '')}")
    with api.gradebook as gb:
        gb.update_or_create_assignment(assignment, duedate=settings.due_date)
    from .formgrader import write_formgrader_config

    write_formgrader_config(work, settings)
    return api


def _grade_with(pool, job: Job) -> Outcome:
    """Grade one job, on a host lent by ``pool`` when there is one."""
    if pool is None:
        return grade_submission(job)
    host = pool.acquire()
    try:
        return grade_submission(replace(job, host=host.address) if host is not None else job)
    finally:
        if host is not None:
            pool.release(host)


def _say_once_without_sandbox(settings: GradingSettings) -> None:
    global _warned_no_sandbox
    from ..sandbox.policy import NO_SANDBOX_MESSAGE, bwrap_available

    if _warned_no_sandbox:
        return
    if not settings.sandbox:
        print("warning: grading with --no-sandbox: student code runs with your rights (memory "
              "and time limits only).", file=sys.stderr)
        _warned_no_sandbox = True
    elif not bwrap_available():
        print(NO_SANDBOX_MESSAGE, file=sys.stderr)
        _warned_no_sandbox = True


def _record(api, work: Path, assignment: str, submission: Submission, outcome: Outcome) -> Status:
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
    if not outcome.status.graded or not outcome.notebook:
        _forget(api, assignment, sid)  # no stale grade from an earlier run stays behind
        return outcome.status if not outcome.status.graded else not_graded("grading failed")
    executed.mkdir(parents=True)
    (executed / f"{assignment}.ipynb").write_bytes(outcome.notebook)
    if submission.timestamp:
        (executed / "timestamp.txt").write_text(submission.timestamp)
    result = api.autograde(assignment, sid, force=True, create=True)
    if not result.get("success"):
        return not_graded(explain_failure(result))
    return outcome.status


def _forget(api, assignment: str, student_id: str) -> None:
    from nbgrader.api import MissingEntry

    with api.gradebook as gb:
        try:
            gb.remove_submission(assignment, student_id)
        except MissingEntry:
            pass


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

    ``submissions`` is a class folder or ``.zip`` in any layout of :mod:`autograder.grade.intake`
    (``layout``, ``pattern``, ``roster`` and ``zone`` go to :func:`~autograder.grade.intake.read_class`).
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
    from ..sandbox.policy import hidden_paths
    from .verdicts import form_problems

    began, run_timings = time.perf_counter(), {}
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
    _say_once_without_sandbox(settings)
    hidden = tuple(str(p) for p in hidden_paths(source_root, settings.source_directory, out, Path(submissions)))
    statuses: dict[str, Status] = {}
    timings: dict[str, dict] = {}
    feedback: dict[str, Path | None] = {}
    diagnoses: dict[str, dict] = {}
    notes = {s.student_id: s.note for s in found}
    done = 0

    def finish(submission: Submission, status: Status) -> None:
        nonlocal done
        statuses[submission.student_id] = status
        done += 1
        if on_progress is not None:
            on_progress(submission, str(status), done, len(found))

    own_executor = executor is None
    executor = executor or _default_executor(settings, jobs)
    workers = getattr(executor, "_max_workers", None) or jobs or settings.jobs or os.cpu_count() or 1
    threads = max(1, (os.cpu_count() or 1) // workers)
    pending = [s for s in found if not s.problem]
    # student hosts are local processes: only for the executor that runs jobs on this machine.
    # They, and the workers' fork server, import their libraries while nbgrader prepares the course.
    pool = _host_pool(settings, min(workers, len(pending)), threads, hidden,
                      _source(source_root, settings, assignment)) if own_executor and pending else None
    if own_executor and pending:
        start_fork_server()
    pages = None
    try:
        api = _prepare_course(assignment, work, source_root, settings)
        run_timings["prepare"] = time.perf_counter() - began
        source = (work / "source" / assignment / f"{assignment}.ipynb").read_bytes()
        released = nbformat.read(work / "release" / assignment / f"{assignment}.ipynb", as_version=4)
        source_nb = nbformat.reads(source.decode("utf-8"), as_version=4)
        problems = form_problems(source_nb)
        if problems:
            raise ValueError(f"the hidden tests of {assignment!r} cannot be judged outside the student's "
                             f"process: {'; '.join(problems)}")
        gradebook = (work / "gradebook.db").read_bytes()
        pages = FeedbackPool(work, settings, out, assignment)
        mark = time.perf_counter()
        times = _cell_times(assignment, source_nb, settings, pool, hidden, threads) if pending else {}
        run_timings["cell times"] = time.perf_counter() - mark
        futures = {}
        for submission in found:
            prepared = None if submission.problem else prepare(submission.notebook, released, source_nb)
            problem = submission.problem or prepared.problem
            if problem:
                finish(submission, not_graded(problem))
                continue
            job = Job(assignment, submission.student_id, prepared.notebook, source, gradebook, settings,
                      hidden, times, threads)
            futures[executor.submit(_grade_with, pool, job)] = (submission, prepared)
        for future in as_completed(futures):
            submission, prepared = futures[future]
            try:
                outcome = future.result()
                if prepared.incident:
                    outcome.status = Status(outcome.status.graded, outcome.status.reason,
                                            (Incident("recovered", prepared.incident), *outcome.status.incidents))
                    notes[submission.student_id] = "; ".join(filter(None, [notes[submission.student_id],
                                                                           prepared.note]))
                mark, cpu = time.perf_counter(), time.thread_time()
                status = _record(api, work, assignment, submission, outcome)
                outcome.timings.update({"record": time.perf_counter() - mark, "record cpu": time.thread_time() - cpu})
                diagnoses[submission.student_id] = outcome.diagnoses
                if status.graded:  # rendered in the background while the next scores are recorded
                    pages.submit(submission.student_id)
                timings[submission.student_id] = outcome.timings
            except Exception as exc:  # noqa: BLE001 - one student's failure must not stop the class
                status = not_graded(f"grading failed: {type(exc).__name__}: {exc}"[:200])
            finish(submission, status)
        for sid, (page, wall, cpu) in pages.results().items():
            feedback[sid] = page
            timings.get(sid, {}).update({"feedback": wall, "feedback cpu": cpu})
    finally:
        if own_executor:
            executor.shutdown(wait=True)
        if pool is not None:
            pool.close()
        if pages is not None:
            pages.close()

    cells, max_score, scores = read_gradebook(api, assignment)
    results = []
    for submission in found:
        sid, status = submission.student_id, statuses[submission.student_id]
        common = dict(note=notes[sid], entry=submission.entry, submitted_at=submission.timestamp,
                      lms=dict(submission.lms), absent=submission.absent, timings=timings.get(sid, {}))
        if status.graded and sid in scores:
            got = scores[sid]
            if got.penalty:
                status = status.with_incidents(Incident(
                    "late", f"late by {got.seconds_late / 3600:.1f} h: penalty {got.penalty:g}"))
            elif settings.due_date and not submission.timestamp and intake.layout not in MARKS_LATE:
                status = status.with_incidents(Incident("no time", "no submission time known: no late penalty applied"))
            results.append(StudentResult(sid, got.score, max_score, status, got.cells, feedback.get(sid),
                                         diagnoses=diagnoses.get(sid, {}), auto_score=got.auto_score,
                                         manual_score=got.manual_score, pending=got.pending, **common))
        else:
            results.append(StudentResult(sid, 0.0, max_score, status, {}, None, **common))
    run_timings["total"] = time.perf_counter() - began
    return GradingRun(assignment, results, [name for name, _ in cells], max_score, work,
                      dict(cells), intake.layout, intake.refused, manual_cells(api, assignment), run_timings)


def _source(source_root: Path, settings: GradingSettings, assignment: str) -> Path:
    return source_root / settings.source_directory / assignment / f"{assignment}.ipynb"


def _host_pool(settings: GradingSettings, size: int, threads: int, hidden, source: Path):
    """One student host per parallel job, all in THE sandbox policy of this run, each having
    imported what the assignment's ``source`` notebook imports."""
    import nbformat

    from ..sandbox.host import PRELOAD, Host, HostPool, preload_for
    from .integrity import FORBIDDEN
    from ..sandbox.policy import student_policy

    if size < 1:
        return None
    try:
        preload = preload_for([c.source for c in nbformat.read(source, as_version=4).cells if c.cell_type == "code"])
    except (OSError, ValueError):  # no readable source yet: preparing the course will say why
        preload = PRELOAD
    policy = student_policy(settings, hidden, threads)
    return HostPool(size, lambda: Host(policy, threads, FORBIDDEN, settings.max_output_lines, preload))


def _cell_times(assignment: str, source_nb, settings: GradingSettings, pool, hidden, threads) -> dict:
    """The source cells' own times: stored at release, or measured now on a host."""
    from ..publish import cell_times
    from ..sandbox.host import Host, Session
    from .integrity import FORBIDDEN
    from ..sandbox.policy import student_policy

    stored = cell_times.load(assignment, source_nb)
    if stored is not None:
        return stored.seconds
    print(f"note: no cell times stored for this version of {assignment!r} (run `course release`): "
          "measuring the source notebook's cells now", file=sys.stderr)
    host = pool.acquire() if pool is not None else None
    own = None
    if host is None:
        own = Host(student_policy(settings, hidden, threads), threads, FORBIDDEN, settings.max_output_lines)
        if not own.ready(180):
            own.close()
            raise RuntimeError("the student host did not start: cannot measure the source notebook")
    session = Session((host or own).address, cold=not settings.warm_kernels)
    try:
        return cell_times.measure(source_nb, session, settings).seconds
    finally:
        session.close()
        if host is not None:
            pool.release(host)
        if own is not None:
            own.close()

