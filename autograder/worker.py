"""Grading one submission, alone: nbgrader's autograde in a private course, in a process of
its own under a wall-clock limit.

:func:`grade_submission` is what an executor runs: data in (the student's notebook, the
source notebook and the gradebook as bytes, the settings), data out (a status and the
executed notebook as bytes), so it works the same in a thread pool on this machine or on a
Dask worker elsewhere. It starts ``python -m autograder.worker JOB`` and kills its whole
process group when the submission's time is up. Inside, nbgrader autogrades with the kernel
in the sandbox and the hidden checks judged outside it (:mod:`autograder.verdicts`). The
private course's gradebook is thrown away: the caller alone writes the class's gradebook.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from .settings import GradingSettings

__all__ = ["grade_submission", "make_job", "GRADED"]

GRADED = "graded"


def make_job(assignment: str, student_id: str, notebook: bytes, source: bytes, gradebook: bytes,
             settings: GradingSettings, hidden: list[str], threads: int = 1) -> dict:
    """Everything a worker needs, as plain data (picklable, no open files). ``threads``: CPU
    threads each of its processes may use (the cores divided among the parallel jobs).
    A ``"zygote"`` entry (``{"socket", "work"}``, :mod:`autograder.warm_kernels`), added on
    the machine that runs the job, has its kernel forked warm instead of started cold."""
    return {"assignment": assignment, "student_id": student_id, "settings": asdict(settings),
            "notebook": notebook, "source": source, "gradebook": gradebook,
            "hidden": [str(p) for p in hidden], "threads": int(threads)}


def thread_env(threads: int) -> dict[str, str]:
    """One job's share of the cores, for its own process, its kernel and the checks' processes:
    OpenMP threads spinning in two processes at once would make every call across a pipe slow."""
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}


# imported once by the launcher, so that each submission's process starts warm
PRELOAD = ["autograder.verdicts", "autograder.release", "nbgrader.apps", "nbgrader.preprocessors",
           "nbconvert.exporters", "numpy", "torch"]


class Launcher:
    """A preloaded process (``python -m autograder.worker --serve``) that forks one child per
    submission, in a session of its own: warm starts, and a timeout kills the whole group."""

    _lock = threading.Lock()
    _instance: "Launcher | None" = None

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.worker", "--serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)

    @classmethod
    def start_job(cls, folder: Path) -> int:
        """Fork a child grading ``folder``; its pid (also its process group)."""
        with cls._lock:
            for _ in range(2):
                if cls._instance is None or cls._instance.proc.poll() is not None:
                    cls._instance = Launcher()
                try:
                    cls._instance.proc.stdin.write(f"{folder}\n".encode())
                    cls._instance.proc.stdin.flush()
                    line = cls._instance.proc.stdout.readline()
                    return int(line)
                except (OSError, ValueError):
                    cls._instance = None
        raise RuntimeError("the grading launcher does not start")


def _serve() -> None:
    """The launcher's loop: read a job folder per line, fork, answer the child's pid."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - whatever is missing is imported by the child
            pass
    try:  # torch builds its first optimizer slowly (lazy imports): do it once, here
        import torch

        param = torch.zeros(1, requires_grad=True)
        torch.optim.lr_scheduler.StepLR(torch.optim.Adam([param]), step_size=1)
    except Exception:  # noqa: BLE001
        pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they end
    for line in sys.stdin:
        folder = line.strip()
        pid = os.fork()
        if pid == 0:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1):
                os.dup2(devnull, fd)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = 1
            try:
                code = main([folder])
            finally:
                os._exit(code)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def grade_submission(job: dict) -> dict:
    """Autograde one submission in a child process; ``{student_id, status, notebook, incidents,
    seconds}``. ``notebook`` is the executed notebook's bytes when nbgrader produced one."""
    settings = GradingSettings(**job["settings"])
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ag-") as tmp:
        folder = Path(tmp)
        (folder / "job.json").write_text(json.dumps({**job, "submitted_at": time.time(), **{
            key: base64.b64encode(job[key]).decode() for key in ("notebook", "source", "gradebook")}}))
        pid = Launcher.start_job(folder)
        deadline = time.monotonic() + settings.submission_timeout
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        timed_out = _running(pid)
        _kill_group_pid(pid)  # the child, and anything it left behind
        if timed_out:
            return _outcome(job, f"timed out: grading stopped after {settings.submission_timeout} s "
                                 "(an endless loop?)", start)
        outcome_file = folder / "outcome.json"
        if not outcome_file.is_file():
            return _outcome(job, "grading crashed: the grading process ended without a result "
                                 "(see the notebook's memory use)", start)
        outcome = json.loads(outcome_file.read_text())
        notebook = folder / "executed.ipynb"
        outcome["notebook"] = notebook.read_bytes() if notebook.is_file() else None
    outcome["seconds"] = time.monotonic() - start
    return outcome


def _kill_group_pid(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _outcome(job: dict, status: str, start: float, incidents=()) -> dict:
    return {"student_id": job["student_id"], "status": status, "notebook": None,
            "incidents": list(incidents), "seconds": time.monotonic() - start}


# ------------------------------------------------------------------ inside the child process

# nbgrader's own failures on a notebook whose metadata it cannot use, in words a TA can act on
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


def explain_failure(result: dict) -> str:
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    if "DeadKernelError" in text or "Kernel died" in text or "kernel died" in text.lower():
        return ("kernel died: the notebook ended its own Python process (os._exit, exit(), a "
                "crash, or the memory limit)")
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


def run_job(folder: Path) -> dict:
    """Autograde the job in ``folder`` (``job.json``); write ``executed.ipynb``; the outcome."""
    from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, Execute,
                                        IgnorePattern, LimitOutput, OverwriteCells, OverwriteKernelspec)

    from .repair import DropOrphanMetadata

    from .release import make_api
    from .sandbox import KERNEL_NAME, SandboxPolicy, write_kernelspec
    from .verdicts import INCIDENTS_KEY, HideChecks, TrustedVerdicts, kernel_hidden
    from .warm_kernels import kernel_request, new_job_folder, relay_argv

    import nbformat

    job = json.loads((folder / "job.json").read_text())
    settings = GradingSettings(**job["settings"])
    threads = max(1, int(job.get("threads", 1)))
    os.environ.update(thread_env(threads))
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    assignment, student = job["assignment"], job["student_id"]
    name = f"{assignment}.ipynb"
    warm = job.get("zygote")  # a warm kernel: its folders are in the zygote's sandbox
    kernel_folder = new_job_folder(Path(warm["work"])) if warm else folder
    course, scratch, runtime = folder / "course", kernel_folder / "scratch", kernel_folder / "runtime"
    for path in (course / "source" / assignment, course / "submitted" / student / assignment, scratch, runtime):
        path.mkdir(parents=True, exist_ok=True)
    source = base64.b64decode(job["source"])
    (course / "source" / assignment / name).write_bytes(source)
    (course / "gradebook.db").write_bytes(base64.b64decode(job["gradebook"]))
    (course / "submitted" / student / assignment / name).write_bytes(base64.b64decode(job["notebook"]))

    hidden = tuple(Path(p) for p in job["hidden"])
    source_nb = nbformat.reads(source.decode("utf-8"), as_version=4)
    limits = dict(memory_bytes=settings.memory_limit_mb * 1024 ** 2,
                  file_bytes=settings.file_limit_mb * 1024 ** 2, use_bwrap=settings.sandbox,
                  env=thread_env(threads))
    kernel_policy = SandboxPolicy(scratch=scratch, hidden=kernel_hidden(hidden, source_nb), writable=(runtime,),
                                  **limits)
    if warm:  # forked by the zygote, which runs in the same sandbox: the relay asks it
        request = kernel_request(kernel_folder, limits["memory_bytes"], limits["file_bytes"], limits["env"])
        (folder / "warm-kernel.json").write_text(json.dumps(request))  # out of the sandbox's sight
        write_kernelspec(folder / "kernels", kernel_policy,
                         argv=relay_argv(warm["socket"], str(folder / "warm-kernel.json")))
    else:
        write_kernelspec(folder / "kernels", kernel_policy)
    os.environ["JUPYTER_PATH"] = str(folder / "kernels") + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime)

    api = make_api(course, settings, **{
        "CourseDirectory.source_directory": "source",
        "CourseDirectory.submitted_directory": "submitted",
        "CourseDirectory.autograded_directory": "autograded",
        "Autograde.sanitize_preprocessors": [ClearOutput, DeduplicateIds, DropOrphanMetadata,
                                             OverwriteKernelspec, OverwriteCells, CheckCellMetadata],
        "Autograde.autograde_preprocessors": [HideChecks, Execute, TrustedVerdicts, IgnorePattern, LimitOutput],
        "Execute.kernel_name": KERNEL_NAME,
        # a loaded machine starting several kernels at once can take longer than nbclient's 60 s
        "Execute.startup_timeout": 300,
        "KernelManager.transport": "ipc",
        "KernelManager.ip": str(runtime / "kernel"),
        "KernelManager.connection_file": str(runtime / "kernel.json"),
        "HideChecks.runtime_dir": str(runtime),
        "HideChecks.cell_order": [c.metadata["nbgrader"]["grade_id"] for c in source_nb.cells
                                  if c.metadata.get("nbgrader", {}).get("grade_id")],
        "HideChecks.call_timeout": float(settings.call_timeout),
        "HideChecks.wait_timeout": float(settings.submission_timeout),
        "HideChecks.sandbox": {"scratch": str(scratch), "hidden": [str(p) for p in hidden],
                               "writable": [], **limits},
        "TrustedVerdicts.max_output_lines": float(settings.max_output_lines),
    })
    began = time.time()
    try:
        result = api.autograde(assignment, student, force=True, create=True)
    finally:
        if warm:
            shutil.rmtree(kernel_folder, ignore_errors=True)
    seconds = time.time() - began
    executed = course / "autograded" / student / assignment / name
    if not result.get("success") or not executed.is_file():
        return {"student_id": student, "status": explain_failure(result), "incidents": []}
    nb = nbformat.read(executed, as_version=4)
    ours = nb.metadata.pop(INCIDENTS_KEY, {})
    nbformat.write(nb, folder / "executed.ipynb")
    return {"student_id": student, "status": GRADED, "incidents": ours.get("incidents", []),
            "diagnoses": ours.get("diagnoses", {}),
            "timings": {**ours.get("timings", {}), "autograde": seconds,
                        "worker start": began - float(job.get("submitted_at", began))}}


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.filterwarnings("ignore")
    argv = argv if argv is not None else sys.argv[1:]
    if argv == ["--serve"]:
        _serve()
        return 0
    folder = Path(argv[0])
    outcome = run_job(folder)
    (folder / "outcome.json").write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
