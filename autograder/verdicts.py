"""Hidden checks judged outside the student's reach: two nbconvert preprocessors around Execute.

The hidden cells keep their form::

    ### BEGIN HIDDEN TESTS
    from autograder.checks.optimizers import check_adam_first_step
    check_adam_first_step(adam_step).assert_passed()
    ### END HIDDEN TESTS

:class:`HideChecks` (before Execute) takes those blocks out of the cells the student's
kernel runs, adds a first cell that arms the library-call guard and a last cell that hands
the kernel's namespace to the grader over a unix socket, and starts a :class:`CheckSession`.
While the kernel sits in that last cell the session runs every named check *here*, in the
grader, with the reference; the student's functions are reached through
:mod:`autograder.remote` stand-ins, and nothing comes back but data. :class:`TrustedVerdicts`
(after Execute) removes the two added cells, puts the hidden blocks back and writes each
verdict into its cell's outputs, a failure first, so nbgrader's ``SaveAutoGrades`` scores
it. A function that hangs or kills the kernel costs its own items; the remaining checks go
on in a fresh sandboxed process that re-runs the student's cells.
"""
from __future__ import annotations

import ast
import importlib
import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_code_cell, new_output
from traitlets import Bool, Dict, Float, List, Unicode

from . import integrity
from .remote import (KernelChannel, RemoteFunction, StudentProcess, StudentProcessError,
                     SERVER_SOURCE, fast_trajectories, install_pipe_clock,
                     remote_optimizer_class)
from .sandbox import SandboxPolicy

__all__ = ["HiddenCheck", "parse_hidden", "hidden_blocks", "kernel_hidden", "HideChecks", "TrustedVerdicts",
           "CheckSession", "INCIDENTS_KEY"]

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[^\n]*\n(.*?)^[ \t]*### END HIDDEN TESTS[^\n]*(\n|$)",
                    re.S | re.M)
INTERNAL = "autograder_internal"
INCIDENTS_KEY = "autograder"
MAX_RESTARTS = 3


@dataclass(frozen=True)
class HiddenCheck:
    module: str   # autograder.checks.optimizers
    check: str    # check_adam_first_step
    target: str   # adam_step: the student's function or class, by name


def parse_hidden(block: str) -> list[HiddenCheck] | None:
    """The checks a hidden block runs, or ``None`` when it is not in the agreed form."""
    try:
        tree = ast.parse(block)
    except SyntaxError:
        return None
    imported, checks = {}, []
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and (stmt.module or "").startswith("autograder.checks.") \
                and not stmt.level and all(a.name.startswith("check_") and not a.asname for a in stmt.names):
            imported.update({a.name: stmt.module for a in stmt.names})
            continue
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if (isinstance(call, ast.Call) and not call.args and not call.keywords
                and isinstance(call.func, ast.Attribute) and call.func.attr == "assert_passed"
                and isinstance(call.func.value, ast.Call)):
            inner = call.func.value
            if (isinstance(inner.func, ast.Name) and inner.func.id in imported and len(inner.args) == 1
                    and not inner.keywords and isinstance(inner.args[0], ast.Name)):
                checks.append(HiddenCheck(imported[inner.func.id], inner.func.id, inner.args[0].id))
                continue
        return None
    return checks or None


def hidden_blocks(nb) -> list[str]:
    return [m.group(1) for cell in nb.cells if cell.cell_type == "code" for m in HIDDEN.finditer(cell.source)]


def all_standard(nb) -> bool:
    """Is every hidden block of ``nb`` in the agreed form (so the kernel never needs the checks)?"""
    return all(parse_hidden(block) is not None for block in hidden_blocks(nb))


def kernel_hidden(hidden, source_nb) -> tuple:
    """Of the folders student code must not see, those hidden from the student's kernel: all
    of them when every hidden block is in the agreed form (the kernel never needs the checks),
    otherwise all but the checks' package (an unusual block runs in the kernel)."""
    hidden = tuple(Path(p) for p in hidden)
    return hidden if all_standard(source_nb) else tuple(p for p in hidden if not (p / "checks").is_dir())


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) or {}


def _student_cells(nb) -> list[str]:
    """The code the student's definitions come from: every code cell but the graded tests."""
    return [c.source for c in nb.cells
            if c.cell_type == "code" and not _nbgrader(c).get("grade") and not c.metadata.get(INTERNAL)]


def _cells_to_rerun(nb) -> list[str]:
    """For a fresh process: the non-test code cells up to the last graded test cell."""
    last = max((i for i, c in enumerate(nb.cells) if _nbgrader(c).get("grade")), default=len(nb.cells))
    return [c.source for c in nb.cells[:last]
            if c.cell_type == "code" and not _nbgrader(c).get("grade") and not c.metadata.get(INTERNAL)]


@dataclass
class Verdict:
    passed: bool
    text: str
    incident: str | None = None
    diagnosis: str | None = None   # the typical mistake the check recognised, if any


class CheckSession(threading.Thread):
    """Runs the named checks against the student's kernel (or a fresh sandboxed process)."""

    def __init__(self, items, student_cells, rerun_cells, socket_path, call_timeout,
                 wait_timeout, policy: SandboxPolicy, sklearn: bool):
        super().__init__(daemon=True, name="trusted-checks")
        self.items, self.student_cells, self.rerun_cells = items, student_cells, rerun_cells
        self.call_timeout, self.wait_timeout, self.policy = call_timeout, wait_timeout, policy
        self.sklearn = sklearn
        self.verdicts: dict[str, list[Verdict]] = {}
        self.timings: dict[str, float] = {"started": time.time()}
        self.kernel_gone = threading.Event()
        self.socket_path = socket_path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(socket_path)
        os.chmod(socket_path, 0o666)
        self.listener.listen(1)
        self.listener.settimeout(0.5)

    # -- connecting ----------------------------------------------------------------------
    def _accept_kernel(self):
        deadline = time.monotonic() + self.wait_timeout
        while time.monotonic() < deadline and not self.kernel_gone.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            conn.setblocking(True)
            return KernelChannel(conn, self.call_timeout)
        return None

    def _fresh_process(self):
        try:
            return StudentProcess(self.rerun_cells, [], self.policy, run_timeout=self.wait_timeout,
                                  call_timeout=self.call_timeout, sklearn=self.sklearn)
        except StudentProcessError:
            return None

    # -- judging -------------------------------------------------------------------------
    def run(self) -> None:
        undo, undo_clock = fast_trajectories(), install_pipe_clock()
        channel = self._accept_kernel()
        self.timings["kernel connected"] = time.time() - self.timings["started"]
        restarts = 0
        try:
            for grade_id, checks in self.items:
                results = []
                for check in checks:
                    static = self._static_verdict(check)
                    if static is not None:
                        results.append(static)
                        continue
                    if channel is None or not channel.alive():
                        if restarts >= MAX_RESTARTS:
                            results.append(Verdict(False, f"[FAILED] {check.target}: not checked: the "
                                                          "student's code ended or hung too often."))
                            continue
                        restarts += 1
                        channel = self._fresh_process()
                        if channel is None:
                            results.append(Verdict(False, f"[FAILED] {check.target}: not checked: "
                                                          "running the notebook's cells again failed "
                                                          "(they hang or end the process)."))
                            continue
                    began = time.time()
                    results.append(self._remote_verdict(channel, check))
                    self.timings[check.check] = round(time.time() - began, 2)
                self.verdicts[grade_id] = results
        finally:
            if isinstance(channel, KernelChannel):
                channel.quit()
            elif channel is not None:
                channel.close()
            self.listener.close()
            undo()
            undo_clock()

    def _static_verdict(self, check: HiddenCheck) -> Verdict | None:
        if integrity.imports_autograder(self.student_cells):
            return Verdict(False, f"[FAILED] {check.target}: scored 0 because the notebook imports "
                                  "the autograder (the hidden reference and checks). Remove that import.",
                           "imports the autograder")
        calls = integrity.library_calls(self.student_cells, check.target)
        if calls:
            return Verdict(False, f"[FAILED] {check.target}: scored 0 because it uses {', '.join(calls)}: "
                                  "the exercise is to implement this yourself, not to call the library.",
                           f"{check.target} calls {', '.join(calls)}")
        return None

    def _remote_verdict(self, channel, check: HiddenCheck) -> Verdict:
        try:
            kind = channel.kinds([check.target])[check.target]
        except Exception as exc:  # noqa: BLE001 - a dead or garbled channel
            return Verdict(False, f"[FAILED] {check.target}: could not be checked: {exc}",
                           f"checking {check.target} failed")
        if kind == "missing":
            return Verdict(False, f"[FAILED] {check.target} is not defined: keep the function's name "
                                  "and run its cell.")
        try:
            run_check = getattr(importlib.import_module(check.module), check.check)
        except (ImportError, AttributeError) as exc:
            return Verdict(False, f"[FAILED] grader error: {check.module}.{check.check}: {exc}")
        if kind == "function":
            stand_in = RemoteFunction(channel, check.target)
        elif kind == "optimizer":
            stand_in = remote_optimizer_class(channel, check.target)
        else:
            return self._in_process_verdict(check, kind)
        try:
            result = run_check(stand_in)
        except StudentProcessError as exc:
            return Verdict(False, f"[FAILED] {check.target}: {exc}", f"{check.target}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a check that breaks on odd data fails the item
            return Verdict(False, f"[FAILED] {check.target}: the check could not run on your answer "
                                  f"({type(exc).__name__}: {exc})")
        calls = channel.forbidden_calls()
        if calls:
            return Verdict(False, f"[FAILED] {check.target}: scored 0 because, while being checked, it "
                                  f"called {', '.join(calls)}: the exercise is to implement this yourself.",
                           f"{check.target} called {', '.join(calls)}")
        incident = None
        if not channel.alive():
            incident = f"{check.target} ended or hung the Python process"
        elif not result.passed and ("did not finish within" in result.message
                                    or "process ended" in result.message):
            incident = f"{check.target} ended or hung the Python process"
        return Verdict(bool(result.passed), str(result), incident,
                       None if result.passed else getattr(result, "diagnosis", None))

    def _in_process_verdict(self, check: HiddenCheck, kind: str) -> Verdict:
        """A kind of answer no stand-in covers yet (a class that is not an optimizer): run the
        check beside the student's code in a fresh sandbox that can see the checks. Weaker:
        code in that process could interfere with the check."""
        policy = SandboxPolicy(**{**self.policy.__dict__, "hidden": tuple(
            p for p in self.policy.hidden if not (Path(p) / "checks").is_dir())})
        try:
            with StudentProcess(self.rerun_cells, [], policy, self.wait_timeout, self.call_timeout,
                                sklearn=self.sklearn) as process:
                reply = process.request({"op": "check_in_process", "module": check.module,
                                         "check": check.check, "name": check.target},
                                        what=f"checking {check.target}")
                return Verdict(bool(reply.get("passed")) is True, str(reply.get("text", ""))[:4000],
                               f"{check.target} ({kind}) was checked beside the student's code")
        except Exception as exc:  # noqa: BLE001
            return Verdict(False, f"[FAILED] {check.target}: {exc}", f"{check.target}: {exc}")

    def finish(self, timeout: float) -> None:
        self.kernel_gone.set()
        self.join(timeout)


class HideChecks(Preprocessor):
    """Before Execute: hidden blocks out of the kernel's reach; the grader's session started."""

    enabled = Bool(True).tag(config=True)
    runtime_dir = Unicode("", help="Writable folder the sandboxed kernel can reach: the socket lives here.").tag(config=True)
    call_timeout = Float(60.0, help="Seconds one call of student code may take in a check.").tag(config=True)
    wait_timeout = Float(600.0, help="Seconds to wait for the kernel to reach its last cell.").tag(config=True)
    sandbox = Dict({}, help="SandboxPolicy fields for a fresh process (scratch, hidden, memory_bytes, ...).").tag(config=True)

    cell_order = List([], help="grade_ids of the source notebook's nbgrader cells, in order.").tag(config=True)

    def preprocess(self, nb, resources):
        incidents = _restore_order(nb, list(self.cell_order))
        if any(c.cell_type == "code" and c.source.startswith("# This cell (id:") for c in nb.cells):
            incidents.append("a deleted graded cell was put back")
        nb.metadata.setdefault(INCIDENTS_KEY, {})["early"] = incidents
        items = []
        for cell in nb.cells:
            meta = _nbgrader(cell)
            if cell.cell_type != "code" or not meta.get("grade") or not meta.get("grade_id"):
                continue
            checks, source = [], cell.source
            for match in HIDDEN.finditer(cell.source):
                parsed = parse_hidden(match.group(1))
                if parsed is None:
                    break
                checks.extend(parsed)
            else:
                if checks:
                    cell.metadata[INTERNAL] = {"source": source}
                    cell.source = HIDDEN.sub("", source)
                    items.append((meta["grade_id"], checks))
        if not items:
            return nb, resources
        runtime = Path(self.runtime_dir or resources.get("metadata", {}).get("path", "."))
        socket_path = str(runtime / f"checks-{os.getpid()}-{id(nb)}.sock")
        student = _student_cells(nb)
        sklearn = any("sklearn" in s for s in student)
        policy = SandboxPolicy(**{k: (tuple(Path(p) for p in v) if k in ("hidden", "writable") else
                                      Path(v) if k == "scratch" else v)
                                  for k, v in (self.sandbox or {"scratch": str(runtime)}).items()})
        session = CheckSession(items, student, _cells_to_rerun(nb), socket_path, self.call_timeout,
                               self.wait_timeout, policy, sklearn)
        prelude = new_code_cell(
            "import sys as _s, types as _t\n"
            "_m = _t.ModuleType('_autograder_student_side')\n"
            f"exec(compile({SERVER_SOURCE!r}, '<autograder student side>', 'exec'), _m.__dict__)\n"
            "_s.modules[_m.__name__] = _m\n"
            f"_m.install_guards({sklearn!r})\n"
            "del _s, _t, _m")
        serve = new_code_cell("import sys as _s\n_s.modules['_autograder_student_side']"
                              f".serve_socket({socket_path!r}, get_ipython().user_ns)")
        for cell in (prelude, serve):
            cell.metadata[INTERNAL] = True
            cell.pop("id", None)
        nb.cells.insert(0, prelude)
        nb.cells.append(serve)
        session.start()
        resources["autograder_session"] = session
        return nb, resources


def _restore_order(nb, order: list[str]) -> list[str]:
    """Graded and solution cells moved by the student go back to the source's order, each
    with the unmarked cells that followed it. nbgrader itself runs them where they stand."""
    rank = {grade_id: i for i, grade_id in enumerate(order)}
    head, segments = [], []
    for cell in nb.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id in rank:
            segments.append((rank[grade_id], [cell]))
        elif segments:
            segments[-1][1].append(cell)
        else:
            head.append(cell)
    ranks = [r for r, _ in segments]
    if ranks == sorted(ranks):
        return []
    segments.sort(key=lambda seg: seg[0])
    nb.cells = head + [cell for _, cells in segments for cell in cells]
    return ["graded cells were moved back to their place"]


def _error_output(text: str):
    lines = text.splitlines() or [text]
    return new_output("error", ename="CheckFailed", evalue=lines[0][:500],
                      traceback=["\x1b[0;31mCheckFailed\x1b[0m: " + lines[0]] + lines[1:])


class TrustedVerdicts(Preprocessor):
    """After Execute: the grader's verdicts written into the graded cells; incidents noted."""

    enabled = Bool(True).tag(config=True)
    max_output_lines = Float(200, help="Lines of output a cell may print before it counts as a flood.").tag(config=True)
    finish_timeout = Float(120.0, help="Seconds to wait for the checks still running.").tag(config=True)

    def preprocess(self, nb, resources):
        incidents = list(nb.metadata.get(INCIDENTS_KEY, {}).pop("early", []))
        diagnoses: dict[str, list[str]] = {}
        session: CheckSession | None = resources.pop("autograder_session", None)
        if session is not None:
            session.finish(self.finish_timeout)
        nb.cells = [c for c in nb.cells if c.metadata.get(INTERNAL) is not True]
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            lines = sum(len(o.get("text", "").splitlines()) for o in cell.get("outputs", [])
                        if o.get("output_type") == "stream")
            if lines > self.max_output_lines:
                incidents.append(f"output flood ({lines} lines in one cell)")
            internal = cell.metadata.pop(INTERNAL, None)
            if not isinstance(internal, dict):
                continue
            cell.source = internal["source"]
            grade_id = _nbgrader(cell).get("grade_id")
            verdicts = (session.verdicts.get(grade_id) if session is not None else None) or \
                [Verdict(False, "[FAILED] the hidden checks did not finish in time.", "checks did not finish")]
            outputs = [o for o in cell.outputs if o.get("output_type") != "execute_result"]
            failed = [v.text for v in verdicts if not v.passed]
            if failed:
                outputs.insert(0, _error_output("\n".join(failed)))
            passed = [v.text for v in verdicts if v.passed]
            if passed:
                outputs.append(new_output("stream", name="stdout", text="\n".join(passed) + "\n"))
            cell.outputs = outputs
            incidents.extend(v.incident for v in verdicts if v.incident)
            found = [v.diagnosis for v in verdicts if v.diagnosis]
            if found:
                diagnoses[grade_id] = list(dict.fromkeys(found))
        for cell in nb.cells:
            for o in cell.get("outputs", []):
                if o.get("output_type") != "error":
                    continue
                text = f"{o.get('ename')}: {o.get('evalue')}"
                if o.get("ename") == "CellTimeoutError" or "KeyboardInterrupt" in text:
                    incidents.append("a cell ran past the time limit")
                elif "MemoryError" in text:
                    incidents.append("hit the memory limit")
                elif "Read-only file system" in text or "PermissionError" in text:
                    incidents.append("tried to write outside its folder")
                elif "Network is unreachable" in text or "Name or service not known" in text:
                    incidents.append("tried to use the network")
        nb.metadata.setdefault(INCIDENTS_KEY, {})["incidents"] = list(dict.fromkeys(incidents))
        nb.metadata[INCIDENTS_KEY]["diagnoses"] = diagnoses
        if session is not None:
            nb.metadata[INCIDENTS_KEY]["timings"] = session.timings
        return nb, resources
