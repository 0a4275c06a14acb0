"""The zygote of warm kernels (:mod:`autograder.warm_kernels`): runs inside the sandbox.

Self-contained (the standard library only, no package imports): the sandbox hides the
``autograder`` package, so the grader passes this file's text to ``python -c``::

    python -c SOURCE LISTENER_FD THREADS WORK

It imports what the course's notebooks import, warms torch's optimizers, prints ``ready``,
then, for each connection on the inherited listening socket (one at a time): empties
``WORK`` (but the new job's folder) and ``/tmp``, forks, and the child becomes an IPython
kernel for the request's connection file, in the request's folder, with its limits and
environment. The connection stays open while the kernel runs; when the kernel ends or the
connection closes (the relay was killed), every other process in the sandbox is killed,
so nothing of one submission runs on into the next.
"""
import json
import os
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

#: what the zygote imports before it forks kernels (what the course's notebooks import)
PRELOAD = ["numpy", "torch", "torch.nn", "torch.optim", "matplotlib", "matplotlib.pyplot",
           "matplotlib_inline.backend_inline", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel",
           "sklearn.metrics", "course"]


def _zygote(listener_fd: int, threads: int, work: str) -> None:
    """Import everything, then fork one kernel per request, one at a time."""
    import ctypes
    import importlib
    import pkgutil

    os.environ.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), MPLBACKEND="Agg")
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a kernel imports whatever is missing itself
            pass
    try:
        import course

        for info in pkgutil.iter_modules(course.__path__, "course."):
            try:
                importlib.import_module(info.name)
            except Exception:  # noqa: BLE001
                pass
        import torch

        torch.set_num_threads(threads)
        param = torch.zeros(2, requires_grad=True)
        param.grad = torch.ones(2)
        optimizer = torch.optim.Adam([param])
        optimizer.step()  # torch imports its compiler on the first step: once, here
        torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    except Exception:  # noqa: BLE001
        pass
    try:  # nobody may trace this process or read its memory (kernels run as the same user)
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:  # noqa: BLE001
        pass
    listener = socket.socket(fileno=listener_fd)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        conn, _ = listener.accept()
        try:
            request = json.loads(_read_line(conn))
            _clean(Path(work), keep=Path(request["job"]))
            _serve_one(conn, request, listener)
        except Exception:  # noqa: BLE001 - a broken request fails that kernel, not the zygote
            pass
        finally:  # nothing of this submission runs on into the next one
            conn.close()
            _kill_everything_else()


def _clean(work: Path, keep: Path) -> None:
    """Remove what earlier kernels left in the shared places: other job folders, /tmp."""
    keep, work = keep.resolve(), work.resolve()
    for place in (work, Path("/tmp")):
        for entry in place.iterdir():
            entry_path = entry.resolve()
            if entry_path == keep or work.is_relative_to(entry_path):
                continue  # the new job's folder, and the way to work/ (bound from outside)
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                try:
                    entry.unlink()
                except OSError:
                    pass


def _kill_everything_else() -> None:
    """Kill every process in this sandbox but this one (and the namespace's init)."""
    try:
        os.kill(-1, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # reap our own children (init reaps the rest)
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.01)


def _serve_one(conn: socket.socket, request: dict, listener: socket.socket) -> None:
    pid = os.fork()
    if pid == 0:  # the kernel keeps no handle on the zygote: not its socket, not its pipe
        conn.close()
        listener.close()
        _become_kernel(request)  # never returns
    conn.sendall(f"{pid}\n".encode())
    conn.setblocking(False)
    while True:  # until the kernel ends, or the relay goes away (then the kernel goes too)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            try:
                conn.setblocking(True)
                conn.sendall(f"exit {code}\n".encode())
            except OSError:
                pass
            return
        try:
            if conn.recv(1) == b"":
                return  # the relay was killed: _kill_everything_else ends the kernel
        except BlockingIOError:
            pass
        except OSError:
            return
        time.sleep(0.02)


def _read_line(conn: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode()


def _become_kernel(request: dict) -> None:
    import resource

    code = 1
    try:
        os.setsid()
        for key, value in request.get("env", {}).items():
            os.environ[key] = str(value)
        os.chdir(request["cwd"])
        limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_AS, request.get("memory_bytes", 0)),
                  (resource.RLIMIT_FSIZE, request.get("file_bytes", 0))]
        for kind, value in limits:
            if value or kind == resource.RLIMIT_CORE:
                resource.setrlimit(kind, (int(value), int(value)))
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = ["ipykernel_launcher", "-f", request["connection_file"], "--HistoryManager.hist_file=:memory:"]
        if sys.path and sys.path[0] == "":
            sys.path.pop(0)
        IPKernelApp.launch_instance(argv=sys.argv[1:])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - left for the grader to read: the kernel did not start
        import traceback

        code = 1
        try:
            Path(request["job"], "kernel-error.txt").write_text(traceback.format_exc())
        except Exception:  # noqa: BLE001
            pass
    finally:
        os._exit(code)



if __name__ == "__main__":
    _zygote(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
