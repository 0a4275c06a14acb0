"""The student's side of a trusted check. This file runs INSIDE the sandbox.

It executes the student's code cells, then answers requests from the grader over its
stdin/stdout pipes: call a student function, build or step a student optimizer, report
which library routines the student's code called. Everything crosses the pipe as data
(numbers, arrays as raw bytes, dicts, lists): no student object, no pickle. The grader
rebuilds plain NumPy arrays and torch tensors from those bytes, so a returned object with
a lying ``__eq__`` never reaches a comparison, and the checks and the reference never
enter this process.

The autograder package is hidden in the sandbox, so this file is passed as text
(``python -c``) and uses only the standard library, NumPy and (when present) torch. The
grader imports its codec, :func:`encode` and :func:`decode`.
"""
import base64
import json
import os
import struct
import sys
import time
import traceback

MAX_FRAME = 512 * 1024 ** 2
MAX_DEPTH = 32
DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"}
TORCH_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "bfloat16",
                "float32", "float64", "complex64", "complex128"}


class CodecError(ValueError):
    """A message that is not well-formed data."""


# ---------------------------------------------------------------- codec (both sides)

def encode(obj, depth=0):
    """``obj`` as JSON-able data: arrays and tensors as raw bytes, containers tagged."""
    import numpy as np

    if depth > MAX_DEPTH:
        raise CodecError("nested too deeply")
    if obj is None or type(obj) in (bool, str):
        return obj
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int) and not isinstance(obj, np.generic):
        return {"__int__": str(int(obj))}
    if isinstance(obj, float):
        return {"__float__": float.hex(float(obj))}
    if isinstance(obj, str):
        return str(obj)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor):
        t = obj.detach()
        name = str(t.dtype).replace("torch.", "")
        if t.device.type == "meta":
            return {"__pt__": [name, list(t.shape), "meta", bool(obj.requires_grad), None]}
        data = t.to("cpu")
        if name == "bfloat16":
            data = data.to(torch.float32)
        raw = np.ascontiguousarray(data.numpy()).tobytes()
        return {"__pt__": [name, list(t.shape), t.device.type, bool(obj.requires_grad),
                           base64.b64encode(raw).decode()]}
    if isinstance(obj, (np.ndarray, np.generic)):
        a = np.asarray(obj)
        name = _np_names().get(a.dtype)
        if name is None:
            raise CodecError(f"an array of dtype {a.dtype}")
        return {"__nd__": [name, list(a.shape), base64.b64encode(
            np.ascontiguousarray(a).tobytes()).decode(), isinstance(obj, np.generic)]}
    if isinstance(obj, dict):
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(obj)]}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in tuple.__iter__(obj)]}
    if isinstance(obj, list):
        return {"__list__": [encode(v, depth + 1) for v in list.__iter__(obj)]}
    raise CodecError(f"a {type(obj).__name__} cannot be sent")


_NP_NAMES = {}


def _np_names():
    if not _NP_NAMES:
        import numpy as np

        _NP_NAMES.update({np.dtype(name): name for name in DTYPES})
    return _NP_NAMES


def _count(shape):
    count = 1
    for n in shape:
        count *= n
    return count


def _shape(value):
    if not isinstance(value, list) or len(value) > 32 or not all(
            type(n) is int and 0 <= n < 2 ** 40 for n in value):
        raise CodecError("bad shape")
    return tuple(value)


def decode(data, depth=0):
    """Plain Python, NumPy and torch objects rebuilt from :func:`encode`'s data, strictly."""
    import numpy as np

    if depth > MAX_DEPTH:
        raise CodecError("nested too deeply")
    if data is None or type(data) in (bool, str):
        return data
    if type(data) is not dict or len(data) != 1:
        raise CodecError(f"unexpected {type(data).__name__}")
    (tag, value), = data.items()
    if tag == "__int__":
        if type(value) is not str or len(value) > 4000:
            raise CodecError("bad int")
        return int(value)
    if tag == "__float__":
        if type(value) is not str:
            raise CodecError("bad float")
        return float.fromhex(value)
    if tag in ("__list__", "__tuple__"):
        if type(value) is not list:
            raise CodecError("bad sequence")
        items = [decode(v, depth + 1) for v in value]
        return items if tag == "__list__" else tuple(items)
    if tag == "__dict__":
        if type(value) is not list:
            raise CodecError("bad dict")
        out = {}
        for pair in value:
            if type(pair) is not list or len(pair) != 2:
                raise CodecError("bad dict item")
            key = decode(pair[0], depth + 1)
            if not isinstance(key, (str, int, float, bool, tuple, type(None))):
                raise CodecError("bad dict key")
            out[key] = decode(pair[1], depth + 1)
        return out
    if tag == "__nd__":
        if type(value) is not list or len(value) != 4 or value[0] not in DTYPES:
            raise CodecError("bad array")
        dtype, shape, raw = np.dtype(value[0]), _shape(value[1]), base64.b64decode(value[2])
        if len(raw) != dtype.itemsize * _count(shape):
            raise CodecError("array size does not match its shape")
        array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        return array[()] if value[3] is True else array
    if tag == "__pt__":
        import torch

        if type(value) is not list or len(value) != 5 or value[0] not in TORCH_DTYPES:
            raise CodecError("bad tensor")
        name, shape, device, requires_grad, raw = value
        shape, dtype = _shape(shape), getattr(torch, name)
        if device not in ("cpu", "cuda", "mps", "meta"):
            raise CodecError("bad device")
        if device == "meta":
            t = torch.empty(shape, dtype=dtype, device="meta")
        else:
            np_dtype = "float32" if name == "bfloat16" else name
            raw = base64.b64decode(raw)
            count = _count(shape)
            if len(raw) != np.dtype(np_dtype).itemsize * count:
                raise CodecError("tensor size does not match its shape")
            t = torch.from_numpy(np.frombuffer(raw, dtype=np_dtype).reshape(shape).copy()).to(dtype)
            if device != "cpu":
                try:
                    t = t.to(device)
                except Exception:  # noqa: BLE001 - that device is not here: keep the numbers
                    pass
        if requires_grad is True and t.is_floating_point():
            t.requires_grad_(True)
        return t
    raise CodecError(f"unknown tag {tag!r}")


def read_frame(stream):
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("the other side closed the pipe")
    (size,) = struct.unpack(">Q", head)
    if size > MAX_FRAME:
        raise CodecError(f"a message of {size} bytes")
    chunks, left = [], size
    while left:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe mid-message")
        chunks.append(chunk)
        left -= len(chunk)
    return json.loads(b"".join(chunks))


def write_frame(stream, message):
    body = json.dumps(message).encode()
    stream.write(struct.pack(">Q", len(body)) + body)
    stream.flush()


# ---------------------------------------------------------------- the server (sandbox side)

FORBIDDEN = {
    "torch.optim": ["Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam"],
    "torch.optim._functional": ["adam", "adamw", "sgd", "rmsprop"],
    "torch.nn.functional": ["batch_norm", "layer_norm", "instance_norm", "group_norm", "dropout"],
    "torch": ["batch_norm", "layer_norm", "dropout"],
    "torch.nn": ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout"],
    "course.confusion": ["ConfusionMatrix"],
}
_seen = set()
_active = [False]


def _guard(module, name):
    """Wrap ``module.name`` so a call while a student function runs is recorded."""
    original = getattr(module, name, None)
    if original is None:
        return
    label = f"{module.__name__}.{name}"
    if isinstance(original, type):
        if label in ("torch.optim.Adam", "torch.optim.SGD", "torch.optim.RMSprop", "torch.optim.AdamW"):
            step = original.step

            def guarded_step(self, *args, __step=step, __label=label, **kwargs):
                if _active[0]:
                    _seen.add(__label)
                return __step(self, *args, **kwargs)
            original.step = guarded_step
        init = original.__init__

        def guarded_init(self, *args, __init=init, __label=label, **kwargs):
            if _active[0]:
                _seen.add(__label)
            return __init(self, *args, **kwargs)
        original.__init__ = guarded_init
        return

    def guarded(*args, __fn=original, __label=label, **kwargs):
        if _active[0]:
            _seen.add(__label)
        return __fn(*args, **kwargs)
    setattr(module, name, guarded)


def install_guards(import_sklearn):
    import importlib

    for module_name, names in FORBIDDEN.items():
        try:
            module = importlib.import_module(module_name)
        except Exception:  # noqa: BLE001 - torch may be absent
            continue
        for name in names:
            _guard(module, name)
    if import_sklearn:
        try:
            metrics = importlib.import_module("sklearn.metrics")
        except Exception:  # noqa: BLE001
            return
        for name in dir(metrics):
            if not name.startswith("_") and callable(getattr(metrics, name)) and \
                    not isinstance(getattr(metrics, name), type):
                _guard(metrics, name)


def _error(exc, names=()):
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    own = [f for f in frames if f.filename.startswith("<")]  # cells and functions defined in them
    if own:
        where = f" (in {own[-1].name}, line {own[-1].lineno})"
    return {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)[:2000],
                                   "where": where,
                                   "base": [c.__name__ for c in type(exc).__mro__][:8]}}


def _float64(value):
    """(array, None) or (None, what is wrong): the float64 copy the grader's checks make."""
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


def _trajectory(fn, param, grads, hyper):
    """A whole update-rule trajectory in one request, as the checks' ``run_numpy`` runs it:
    fresh copies of the parameter and gradient for every call, one state dict throughout."""
    import numpy as np

    state, current, path = {}, param.copy(), [param.copy()]
    for k, grad in enumerate(grads, start=1):
        _active[0] = True
        try:
            out = fn(current.copy(), grad.copy(), state, **hyper)
        except BaseException as exc:  # noqa: BLE001 - reported with its step
            return {**_error(exc), "ok": True, "step": k, "raised": True}
        finally:
            _active[0] = False
        current, problem = _float64(out)
        if problem is not None:
            return {"ok": True, "step": k, "problem": problem}
        if current.shape != param.shape:
            return {"ok": True, "step": k, "problem": f"shape:{list(current.shape)}"}
        path.append(current.copy())
    return {"ok": True, "path": encode(np.stack(path)), "state": encode(state)}


def _kind(obj):
    torch = sys.modules.get("torch")
    if isinstance(obj, type):
        if torch is not None and issubclass(obj, torch.optim.Optimizer):
            return "optimizer"
        return "class"
    return "function" if callable(obj) else "value"


def serve_pipes():
    """Serve over stdin/stdout (a fresh process); the student's output goes to /dev/null."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    serve(proto_in, proto_out, {"__name__": "__main__"})


def serve_socket(path, namespace):
    """Serve over the grader's unix socket at ``path``, from inside the student's kernel,
    after all the notebook's cells have run: ``namespace`` is the kernel's user namespace."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    try:
        serve(sock.makefile("rb", buffering=0), sock.makefile("wb", buffering=0), namespace)
    finally:
        sock.close()


def serve(proto_in, proto_out, namespace):
    objects = {}
    shell = None
    while True:
        try:
            request = read_frame(proto_in)
        except EOFError:
            return
        op = request.get("op")
        began = time.perf_counter()
        try:
            if op == "run":
                os.environ["NBGRADER_EXECUTION"] = "autograde"
                install_guards(request.get("sklearn", False))
                from IPython.core.interactiveshell import InteractiveShell

                InteractiveShell.enable_gui = lambda self, gui=None: None  # %matplotlib inline
                shell = InteractiveShell.instance()
                shell.user_ns.update(namespace)
                namespace = shell.user_ns
                errors = []
                for source in request["cells"]:
                    result = shell.run_cell(source, store_history=False, silent=True)
                    if not result.success and result.error_in_exec is not None:
                        errors.append(f"{type(result.error_in_exec).__name__}: {result.error_in_exec}"[:300])
                kinds = {name: (_kind(namespace[name]) if name in namespace else "missing")
                         for name in request["names"]}
                reply = {"ok": True, "kinds": kinds, "errors": errors}
            elif op == "call":
                target = namespace[request["name"]]
                args, kwargs = decode(request["args"]), decode(request["kwargs"])
                _active[0] = True
                try:
                    result = target(*args, **kwargs)
                finally:
                    _active[0] = False
                # only containers come back: the caller updates its dicts and lists in place
                reply = {"ok": True, "result": encode(result),
                         "args": encode([a if isinstance(a, (dict, list)) else None for a in args]),
                         "kwargs": encode([v if isinstance(v, (dict, list)) else None
                                           for v in kwargs.values()])}
            elif op == "trajectory":
                reply = _trajectory(namespace[request["name"]], decode(request["param"]),
                                    decode(request["grads"]), decode(request["hyper"]))
            elif op == "new_optimizer":
                import torch

                groups = decode(request["groups"])
                params = []
                for group in groups:
                    group["params"] = [p.detach().clone().requires_grad_(True) for p in group["params"]]
                    params.extend(group["params"])
                cls = namespace[request["name"]]
                _active[0] = True
                try:
                    opt = cls(groups, *decode(request["args"]), **decode(request["kwargs"]))
                finally:
                    _active[0] = False
                if not isinstance(opt, torch.optim.Optimizer):
                    raise TypeError(f"{request['name']}(...) did not create a torch.optim.Optimizer")
                handle = len(objects) + 1
                objects[handle] = (opt, params)
                reply = {"ok": True, "handle": handle}
            elif op == "step":
                import torch

                opt, params = objects[request["handle"]]
                values, grads = decode(request["params"]), decode(request["grads"])
                with torch.no_grad():
                    for p, value, grad in zip(params, values, grads):
                        p.copy_(value)
                        p.grad = None if grad is None else grad.to(p.dtype)
                for group, hyper in zip(opt.param_groups, decode(request["groups"])):
                    for key, value in hyper.items():
                        group[key] = value
                loss_value = decode(request["loss"])
                closure = (lambda: torch.tensor(loss_value)) if request["closure"] else None
                _active[0] = True
                try:
                    loss = opt.step(closure) if closure is not None else opt.step()
                finally:
                    _active[0] = False
                reply = {"ok": True, "params": encode([p.detach() for p in params]),
                         "has_state": [len(opt.state.get(p, {})) > 0 for p in params],
                         "loss_is_none": loss is None}
            elif op == "kinds":
                reply = {"ok": True, "kinds": {name: (_kind(namespace[name]) if name in namespace
                                                      else "missing") for name in request["names"]}}
            elif op == "quit":
                write_frame(proto_out, {"ok": True})
                return
            elif op == "forbidden":
                reply = {"ok": True, "calls": sorted(_seen)}
                _seen.clear()
            elif op == "check_in_process":
                import importlib

                module = importlib.import_module(request["module"])
                result = getattr(module, request["check"])(namespace[request["name"]])
                reply = {"ok": True, "passed": bool(result.passed), "text": str(result)}
            else:
                reply = {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}",
                                                "where": "", "base": []}}
        except BaseException as exc:  # noqa: BLE001 - everything the student raises is data
            _active[0] = False
            reply = _error(exc)
        reply["seconds"] = time.perf_counter() - began
        try:
            write_frame(proto_out, reply)
        except CodecError as exc:
            write_frame(proto_out, _error(exc))


if __name__ == "__main__":
    serve_pipes()
