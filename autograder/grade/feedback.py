"""Feedback pages, rendered by nbgrader's ``generate_feedback`` in a process of their own.

A feedback page costs more CPU than recording the score (nbconvert parses the page it renders
again, and would compile its templates again for every student: :class:`FeedbackExporter`
keeps them compiled), and the class run records the scores one submission
at a time. So the class run records a submission, then hands its page to a
:class:`FeedbackPool`: one process, forked from the grading workers' fork server, that renders
the pages while the class run records the next scores. The page is nbgrader's own, made from
the gradebook after the student's scores are in it, so its content does not change; it only
stops holding up the gradebook's one writer. A page that cannot be rendered there (the process
died) is rendered in the calling process, so no page is lost.
"""
from __future__ import annotations

import shutil
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter

from .gradebook import grading_api

__all__ = ["Page", "render_feedback", "FeedbackPool", "FeedbackExporter"]

Page = tuple  # (the page's path or None, wall seconds, CPU seconds)

_APIS: dict = {}  # one nbgrader API per grading course and settings, kept for the life of the process


def _api(work: Path, settings):
    key = (str(work), repr(settings))
    if key not in _APIS:
        _APIS[key] = grading_api(work, settings, **{"GenerateFeedback.exporter_class": FeedbackExporter})
    return _APIS[key]


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept for the life of the process. Jinja uses a kept one only
    when its template's source has the same checksum, so a changed template is compiled again."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter, as nbgrader's ``generate_feedback`` uses it, whose templates
    are compiled once per process: nbgrader makes a new exporter, and with it a new Jinja
    environment that compiles every template again, for each student's page."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED
        return environment


def render_feedback(work: Path, settings, out: Path, assignment: str, student_id: str) -> Page:
    """nbgrader's feedback page of a scored ``student_id``, copied to
    ``out/feedback/<student>/<assignment>.html``; ``(path or None, wall s, CPU s)``."""
    began, cpu = time.perf_counter(), time.process_time()
    result = _api(work, settings).generate_feedback(assignment, student_id, force=True)
    html = work / "feedback" / student_id / assignment / f"{assignment}.html"
    target = None
    if result.get("success") and html.is_file():
        target = out / "feedback" / student_id / f"{assignment}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(html, target)
    return target, time.perf_counter() - began, time.process_time() - cpu


class FeedbackPool:
    """Renders feedback pages in one background process, in the order they are asked for."""

    def __init__(self, work: Path, settings, out: Path, assignment: str):
        from .submission import fork_server

        self.args = (work, settings, out, assignment)
        self.pages: dict[str, Future] = {}
        try:
            self.executor = ProcessPoolExecutor(max_workers=1, mp_context=fork_server())
        except (OSError, ValueError):  # no process to spare: the pages are rendered here
            self.executor = None

    def submit(self, student_id: str) -> None:
        """Render ``student_id``'s page (its scores must be in the gradebook already)."""
        future = None
        if self.executor is not None:
            try:
                future = self.executor.submit(render_feedback, *self.args, student_id)
            except RuntimeError:  # the process is gone (BrokenProcessPool is a RuntimeError)
                future = None
        if future is None:
            future = Future()
            future.set_result(render_feedback(*self.args, student_id))
        self.pages[student_id] = future

    def results(self) -> dict[str, Page]:
        """Every page asked for, waited for; one the process could not render is rendered here."""
        pages = {}
        for student_id, future in self.pages.items():
            try:
                pages[student_id] = future.result()
            except Exception:  # noqa: BLE001 - the process died: render the page here instead
                pages[student_id] = render_feedback(*self.args, student_id)
        return pages

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
