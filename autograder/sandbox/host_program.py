"""The student host, inside the sandbox: one per parallel job, it forks each student's process.

This program runs INSIDE the sandbox, where the rest of the ``autograder`` package is hidden:
it MUST STAY STANDARD-LIBRARY ONLY at import time (its own imports: :mod:`.protocol`,
:mod:`.guard` and :mod:`.student_program`; what it preloads is the student's environment).

    python -m autograder.sandbox.host_program CONFIG_JSON

It imports what its assignment's notebook imports (:func:`autograder.sandbox.host.preload_for`),
warms torch's optimizers and matplotlib's drawing, arms the library-call guard (the forbidden
routines of modules not imported yet are wrapped when a student imports them), builds a
pristine IPython shell, freezes what it holds out of the collector's sight (:func:`gc.freeze`),
makes itself undumpable (no student process may trace it or read its memory), prints
``ready``, then serves one session at a time on the
listening socket it inherited (its path is out of the sandbox's sight). A session is one
submission: ``start`` (with the grader's end of a data channel attached) starts the student's
process with :mod:`multiprocessing` (forked, warm; or spawned from scratch with ``cold``),
``interrupt`` sends it SIGINT, ``kill`` ends it; the host reports ``exited`` when it ends. When
a student's process ends, and when a session ends, everything else in the sandbox is killed and
the shared folders are emptied, so nothing of one submission runs on into the next.
"""
import gc
import json
import multiprocessing
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path

from . import student_program
from .guard import GUARD
from .protocol import PeerGone, ProtocolError, receive, send


def preload(config):
    """Import and warm what every student's process needs, once."""
    import importlib
    import pkgutil

    os.environ.update(config.get("env", {}))
    for name in config.get("preload", []):
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a student's process imports whatever is missing
            continue
        if name == "course":  # the course library: every module a notebook may use
            for info in pkgutil.iter_modules(module.__path__, "course."):
                try:
                    importlib.import_module(info.name)
                except Exception:  # noqa: BLE001
                    pass
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            torch.set_num_threads(int(config.get("threads", 1)))
            param = torch.zeros(2, requires_grad=True)
            param.grad = torch.ones(2)
            optimizer = torch.optim.Adam([param])
            optimizer.step()  # torch imports its compiler on the first step: once, here
            torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
        except Exception:  # noqa: BLE001
            pass
    if "matplotlib" in sys.modules:
        warm_figures()
    GUARD.install(config.get("forbidden", []))
    student_program.make_shell()
    # Everything imported so far lives as long as the host: the collector need not scan it again
    # in every student's process (CPU per collection), nor touch its pages (copies after fork).
    gc.freeze()


def warm_figures():
    """Draw one figure to PNG off pyplot's books, as the inline backend would: the first drawing
    in a process loads fonts, mathtext and the tick machinery (tenths of a second), once here."""
    from io import BytesIO

    try:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6, 3))
        for ax in figure.subplots(1, 2):
            ax.plot([1, 2, 3], [1, 4, 9], label=r"$\eta_t$")
            ax.scatter([1], [2])
            ax.contour([[0, 1], [1, 2]])
            ax.set(yscale="log", title="t", xlabel="step $t$")
            ax.legend()
            ax.grid(True)
        figure.suptitle("warm")
        figure.tight_layout()
        figure.savefig(BytesIO(), format="png", bbox_inches="tight")
    except Exception:  # noqa: BLE001 - only a head start
        pass


def undumpable():
    try:  # nobody may trace this process or read its memory (students run as the same user)
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:  # noqa: BLE001
        pass


class Host:
    def __init__(self, config):
        self.work = Path(config["work"])
        self.own_namespace = bool(config.get("own_pid_namespace"))
        self.limits = {"memory_bytes": int(config.get("memory_bytes", 0)),
                       "file_bytes": int(config.get("file_bytes", 0))}
        self.env = dict(config.get("env", {}))
        self.max_lines = int(config.get("max_lines", 200))
        self.child = None

    def serve(self, listener):
        while True:
            conn, _ = listener.accept()
            try:
                self.session(conn)
            except Exception:  # noqa: BLE001 - a broken session fails that submission only
                pass
            finally:
                conn.close()
                self.end_child()
                self.clean()

    def session(self, conn):
        while True:
            waiting = [conn] + ([self.child.sentinel] if self.child is not None else [])
            readable, _, _ = select.select(waiting, [], [])
            if self.child is not None and self.child.sentinel in readable:
                self.child.join()
                code = self.child.exitcode
                self.end_child()
                send(conn, {"event": "exited", "code": code})
                continue
            try:
                message, fds = receive(conn, with_fds=True)
            except (PeerGone, ProtocolError, OSError):
                return
            op = message.get("op")
            if op == "start":
                self.end_child()
                self.clean()
                self.start(message, fds)
                send(conn, {"event": "started", "pid": self.child.pid})
            elif op == "interrupt" and self.child is not None:
                os.kill(self.child.pid, signal.SIGINT)
            elif op == "kill" and self.child is not None:
                self.child.kill()
            elif op == "end":
                return
            for fd in fds if op != "start" else ():
                os.close(fd)

    def start(self, message, fds):
        folder = Path(tempfile.mkdtemp(prefix="job-", dir=self.work))
        scratch, tmp = folder / "scratch", folder / "tmp"
        scratch.mkdir()
        tmp.mkdir()
        request = {**self.limits, "cwd": str(scratch), "max_lines": self.max_lines,
                   "env": {**self.env, "HOME": str(scratch), "TMPDIR": str(tmp),
                           "MPLCONFIGDIR": str(tmp / "matplotlib"), "IPYTHONDIR": str(tmp / "ipython"),
                           "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                           "NBGRADER_EXECUTION": "autograde"}}
        channel = socket.socket(fileno=fds[0])
        for extra in fds[1:]:
            os.close(extra)
        context = multiprocessing.get_context("spawn" if message.get("cold") else "fork")
        self.child = context.Process(target=student_program.main, args=(channel, request), daemon=False)
        self.child.start()
        channel.close()

    def end_child(self):
        """Stop the student's process and everything it left behind."""
        if self.child is not None:
            if self.child.exitcode is None:
                self.child.kill()
                self.child.join()
            self.child.close()
            self.child = None
        if self.own_namespace:  # every other process in this sandbox (its own PID namespace)
            try:
                os.kill(-1, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        while True:  # reap our own children (the namespace's init reaps the rest)
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break

    def clean(self):
        """Empty the folders submissions share: the job folders, and /tmp when it is ours."""
        places = [self.work] + ([Path("/tmp")] if self.own_namespace else [])
        for place in places:
            for entry in place.iterdir():
                if self.work.is_relative_to(entry.resolve()):
                    continue  # the way to work/ itself
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    try:
                        entry.unlink()
                    except OSError:
                        pass


def main(argv=None):
    config = json.loads((argv or sys.argv[1:])[0])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts are for student code only
    preload(config)
    undumpable()
    listener = socket.socket(fileno=int(config["listener"]))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    Host(config).serve(listener)


if __name__ == "__main__":
    main()
