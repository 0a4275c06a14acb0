"""The student's process, inside the sandbox: it runs the notebook's cells, then answers checks.

This program runs INSIDE the sandbox, where the rest of the ``autograder`` package is hidden:
it MUST STAY STANDARD-LIBRARY ONLY at import time, with :mod:`.protocol` and :mod:`.guard` its
only imports from the package (IPython, NumPy and torch, the student's own environment, are
imported where used).

The host forks this process for one submission (:mod:`.host_program`) and hands it one end of a
data channel to the grader. Over that channel, in :mod:`.protocol`'s frames, the grader asks:

- ``cell``: run one cell's source in an IPython shell; its outputs come back as nbformat output
  dicts (streams, displayed figures, the last expression's value, the error with its traceback),
  what nbgrader's Execute would record, with at most ``max_lines`` lines kept per cell;
- ``kinds``: what each name of the namespace is (function, optimizer class, other class, value);
- ``call``, ``trajectory``, ``new_optimizer``, ``step``: run the student's function or optimizer
  on data the grader sends, and send back data only (:func:`.protocol.encode`);
- ``forbidden``: the library routines a student call reached (the library-call guard).

Only student code sees SIGINT (the host's interrupt at a time limit): it is blocked while this
program reads and writes frames, so an interrupt never cuts a frame in two.
"""
import os
import signal
import sys
import time
import traceback

from .guard import GUARD, student_code
from .protocol import PeerGone, ProtocolError, decode, encode, receive, send

MAX_BYTES_PER_CELL = 4 * 1024 ** 2
MAX_OUTPUTS_PER_CELL = 200


# ---------------------------------------------------------------- running cells

class Outputs:
    """One cell's outputs as nbformat dicts; streams merged and cut at ``max_lines``."""

    def __init__(self, max_lines):
        self.items, self.max_lines = [], max_lines
        self.lines = {"stdout": 0, "stderr": 0}
        self.kept_lines = self.kept_bytes = 0
        self.clear_on_next = False

    def _room(self):
        if self.clear_on_next:
            self.items, self.clear_on_next = [], False
        return len(self.items) < MAX_OUTPUTS_PER_CELL and self.kept_bytes < MAX_BYTES_PER_CELL

    def stream(self, name, text):
        self.lines[name] = self.lines.get(name, 0) + text.count("\n")
        if not self._room() or self.kept_lines > self.max_lines:
            return
        pieces = text.split("\n")
        text = "\n".join(pieces[: self.max_lines + 2 - self.kept_lines])
        self.kept_lines += text.count("\n")
        self.kept_bytes += len(text)
        last = self.items[-1] if self.items else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.items.append({"output_type": "stream", "name": name, "text": text})

    def add(self, output):
        if self._room():
            self.kept_bytes += sum(len(str(v)) for v in output.get("data", {}).values())
            self.items.append(output)


class Stream:
    """``sys.stdout`` / ``sys.stderr`` while a cell runs: text goes to the cell's outputs."""

    encoding, errors = "utf-8", "replace"

    def __init__(self, name):
        self.name, self.outputs = name, None

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self.outputs is not None and text:
            self.outputs.stream(self.name, text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def fileno(self):
        raise OSError("the grader's output stream has no file descriptor")


_SHELL = []


def make_shell():
    """THE IPython shell of this process (the host builds it once, before it forks students),
    whose displays, results and tracebacks become nbformat outputs."""
    if _SHELL:
        return _SHELL[0]
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            shell = self.shell
            output = {"output_type": "display_data", "data": dict(data), "metadata": dict(metadata or {})}
            display_id = (transient or {}).get("display_id")
            if update and display_id:
                for old in shell.outputs.items:
                    if old.get("transient", {}).get("display_id") == display_id:
                        old["data"], old["metadata"] = output["data"], output["metadata"]
                return
            if display_id:
                output["transient"] = {"display_id": display_id}
            shell.outputs.add(output)

        def clear_output(self, wait=False):
            if wait:
                self.shell.outputs.clear_on_next = True
            else:
                self.shell.outputs.items = []

    class Hook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            self.shell.outputs.add({"output_type": "execute_result", "data": dict(format_dict),
                                    "metadata": dict(md_dict or {}),
                                    "execution_count": self.shell.execution_count})

        def finish_displayhook(self):
            self._is_active = False

    class Shell(InteractiveShell):
        displayhook_class, display_pub_class = Hook, Publisher
        outputs = None

        def enable_gui(self, gui=None):
            """Figures are shown inline (``%matplotlib inline``): no event loop."""

        def _showtraceback(self, etype, evalue, stb):
            try:
                value = str(evalue)
            except Exception:  # noqa: BLE001 - a student exception whose __str__ fails
                value = f"<{etype.__name__} whose message cannot be shown>"
            self.outputs.add({"output_type": "error", "ename": str(etype.__name__), "evalue": value,
                              "traceback": [str(line) for line in stb]})

    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    _SHELL.append(Shell.instance(config=config))
    return _SHELL[0]


def run_cell(shell, source, max_lines):
    """Run one cell; its outputs, stream line counts and seconds."""
    outputs = Outputs(max_lines)
    shell.outputs = sys.stdout.outputs = sys.stderr.outputs = outputs
    with student_code() as run:
        try:
            shell.run_cell(source, store_history=True)
        except KeyboardInterrupt:  # an interrupt outside the user's code, in IPython's own steps
            outputs.add({"output_type": "error", "ename": "KeyboardInterrupt", "evalue": "",
                         "traceback": ["KeyboardInterrupt"]})
    shell.outputs = sys.stdout.outputs = sys.stderr.outputs = None
    return {"outputs": outputs.items, "lines": outputs.lines, "seconds": run.seconds}


# ---------------------------------------------------------------- answering checks

def _error(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename.startswith("<") or "ipython-input" in f.filename]
    where = f" (in {own[-1].name}, line {own[-1].lineno})" if own else ""
    try:
        message = str(exc)[:2000]
    except Exception:  # noqa: BLE001
        message = "<its message cannot be shown>"
    return {"ok": False, "error": {"type": type(exc).__name__, "message": message, "where": where}}


def _float64(value):
    """(array, None) or (None, what is wrong): the float64 copy the checks make of a result."""
    import numpy as np

    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().to("cpu", torch.float64).numpy().copy(), None
    if value is None:
        return None, "none"
    try:
        return np.array(value, dtype=np.float64, copy=True), None
    except (TypeError, ValueError):
        return None, f"type:{type(value).__name__}"


def kind(obj):
    torch = sys.modules.get("torch")
    if isinstance(obj, type):
        if torch is not None and issubclass(obj, torch.optim.Optimizer):
            return "optimizer"
        return "class"
    return "function" if callable(obj) else "value"


def _call(namespace, request):
    target = namespace[request["name"]]
    args, kwargs = decode(request["args"]), decode(request["kwargs"])
    with student_code(guarded=True) as run:
        result = target(*args, **kwargs)
    # dicts and lists the function changed in place go back to the caller, as data
    return {"ok": True, "result": encode(result), "seconds": run.seconds,
            "args": encode([a if isinstance(a, (dict, list)) else None for a in args]),
            "kwargs": encode([v if isinstance(v, (dict, list)) else None for v in kwargs.values()])}


def _trajectory(namespace, request):
    """A whole update-rule trajectory in one request, as the checks run it: fresh copies of the
    parameter and gradient for every call, one state dict throughout."""
    import numpy as np

    fn = namespace[request["name"]]
    param, grads, hyper = decode(request["param"]), decode(request["grads"]), decode(request["hyper"])
    state, current, path, seconds = {}, param.copy(), [param.copy()], 0.0
    for k, grad in enumerate(grads, start=1):
        try:
            with student_code(guarded=True) as run:
                out = fn(current.copy(), grad.copy(), state, **hyper)
        except Exception as exc:  # noqa: BLE001 - reported with its step
            return {**_error(exc), "ok": True, "step": k, "raised": True}
        seconds += run.seconds
        current, problem = _float64(out)
        if problem is None and current.shape != param.shape:
            problem = f"shape:{list(current.shape)}"
        if problem is not None:
            return {"ok": True, "step": k, "problem": problem}
        path.append(current.copy())
    return {"ok": True, "path": encode(np.stack(path)), "state": encode(state), "seconds": seconds}


def _new_optimizer(namespace, objects, request):
    import torch

    groups = decode(request["groups"])
    params = []
    for group in groups:
        group["params"] = [p.detach().clone().requires_grad_(True) for p in group["params"]]
        params.extend(group["params"])
    with student_code(guarded=True) as run:
        opt = namespace[request["name"]](groups, *decode(request["args"]), **decode(request["kwargs"]))
    if not isinstance(opt, torch.optim.Optimizer):
        raise TypeError(f"{request['name']}(...) did not create a torch.optim.Optimizer")
    objects[len(objects) + 1] = (opt, params)
    return {"ok": True, "handle": len(objects), "seconds": run.seconds}


def _step(objects, request):
    import torch

    opt, params = objects[request["handle"]]
    values, grads = decode(request["params"]), decode(request["grads"])
    with torch.no_grad():
        for p, value, grad in zip(params, values, grads):
            p.copy_(value)
            p.grad = None if grad is None else grad.to(p.dtype)
    for group, hyper in zip(opt.param_groups, decode(request["groups"])):
        group.update(hyper)
    loss_value = decode(request["loss"])
    closure = (lambda: torch.tensor(loss_value)) if request["closure"] else None
    with student_code(guarded=True) as run:
        loss = opt.step(closure) if closure is not None else opt.step()
    return {"ok": True, "params": encode([p.detach() for p in params]), "seconds": run.seconds,
            "has_state": [len(opt.state.get(p, {})) > 0 for p in params], "loss_is_none": loss is None}


def serve(channel, shell, max_lines):
    """Answer the grader's requests until it says ``quit`` or goes away."""
    namespace, objects = shell.user_ns, {}
    while True:
        try:
            request = receive(channel)
        except (PeerGone, ProtocolError, OSError):
            return
        op = request.get("op")
        cpu = time.process_time()
        try:
            if op == "cell":
                reply = {"ok": True, **run_cell(shell, str(request["source"]), max_lines)}
            elif op == "kinds":
                reply = {"ok": True, "kinds": {n: kind(namespace[n]) if n in namespace else "missing"
                                               for n in request["names"]}}
            elif op == "call":
                reply = _call(namespace, request)
            elif op == "trajectory":
                reply = _trajectory(namespace, request)
            elif op == "new_optimizer":
                reply = _new_optimizer(namespace, objects, request)
            elif op == "step":
                reply = _step(objects, request)
            elif op == "forbidden":
                reply = {"ok": True, "calls": sorted(GUARD.seen)}
                GUARD.seen.clear()
            elif op == "quit":
                send(channel, {"ok": True})
                return
            else:
                reply = {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}",
                                                "where": ""}}
        except BaseException as exc:  # noqa: BLE001 - everything the student raises is data
            reply = _error(exc)
        reply["cpu"] = time.process_time() - cpu  # for the grader's profile of where time goes
        try:
            send(channel, reply)
        except ProtocolError as exc:  # a result that is not data
            send(channel, _error(exc))
        except (PeerGone, OSError):
            return


def main(channel, request):
    """The forked (or spawned) process for one submission: limits, folder, shell, then serve."""
    import resource

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()
    for key, value in request.get("env", {}).items():
        os.environ[key] = str(value)
    os.chdir(request["cwd"])
    for kind_, value in ((resource.RLIMIT_CORE, 0), (resource.RLIMIT_AS, request.get("memory_bytes", 0)),
                         (resource.RLIMIT_FSIZE, request.get("file_bytes", 0))):
        if value or kind_ == resource.RLIMIT_CORE:
            resource.setrlimit(kind_, (int(value), int(value)))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the student's output reaches the notebook through sys.stdout/stderr
        os.dup2(devnull, fd)
    sys.stdout, sys.stderr = Stream("stdout"), Stream("stderr")
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path.pop(0)
    sys.path.insert(0, request["cwd"])
    shell = make_shell()
    try:
        serve(channel, shell, int(request.get("max_lines", 200)))
    finally:
        channel.close()
