"""The one message format between the grader, the student host and the student's process.

This module runs on both sides of the sandbox and MUST STAY STANDARD-LIBRARY ONLY at import
time: inside the sandbox only the sandbox programs and the ``__init__.py`` files above them
(``autograder/``, ``autograder/sandbox/``) are visible (NumPy and torch, the student's own environment, are imported where arrays are encoded).

A message is a frame: 8 bytes of length (big-endian), then that many bytes of JSON. Every read
has a deadline, so a peer that stalls half-way through a frame costs its own time limit and
nothing more. A frame may carry open file descriptors (``SCM_RIGHTS``) on a unix socket: that is
how the grader hands the student's process its end of a data channel through the host.

Values that are not JSON (arrays, tensors, NumPy random generators, tuples, ints past 2⁵³,
dicts with non-string keys) cross as tagged data (:func:`encode`, :func:`decode`): arrays as raw bytes, never a pickle, so
an object with behaviour (a lying ``__eq__``) cannot be sent, and what the grader rebuilds is a
plain ``numpy.ndarray`` or ``torch.Tensor``.
"""
import array
import base64
import json
import socket
import struct
import sys
import time

MAX_FRAME = 512 * 1024 ** 2
MAX_DEPTH = 32
HEADER = struct.Struct(">Q")
DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"}
BIT_GENERATORS = {"PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"}
TORCH_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "float16", "bfloat16",
                "float32", "float64", "complex64", "complex128"}


class ProtocolError(ValueError):
    """A frame or a value that is not well-formed data."""


CodecError = ProtocolError


class PeerGone(EOFError):
    """The other side closed the channel (it ended, or was killed)."""


# ---------------------------------------------------------------- frames

def send(sock, message, fds=(), timeout=None):
    """Write ``message`` (JSON-able) as one frame; ``fds`` travel with its first byte. The
    frame's size in bytes."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=True).encode()
    data = HEADER.pack(len(body)) + body
    sock.settimeout(timeout)
    try:
        if fds:
            sent = socket.send_fds(sock, [data[:HEADER.size]], list(fds))
            data = data[sent:]
        sock.sendall(data)
        return HEADER.size + len(body)
    except socket.timeout:
        raise TimeoutError("the other side does not read") from None
    except (BrokenPipeError, ConnectionResetError) as exc:
        raise PeerGone(str(exc)) from None


def receive(sock, deadline=None, max_bytes=MAX_FRAME, with_fds=False, sizes=None):
    """The next frame's message (and the descriptors that came with it, when ``with_fds``).

    ``deadline`` is a ``time.monotonic()`` value; past it :class:`TimeoutError`. A closed
    channel raises :class:`PeerGone`, a malformed frame :class:`ProtocolError`. ``sizes``: a
    list the frame's size in bytes is appended to."""
    fds = []
    head = _exact(sock, HEADER.size, deadline, fds if with_fds else None)
    (size,) = HEADER.unpack(head)
    if size > max_bytes:
        raise ProtocolError(f"a message of {size} bytes")
    body = _exact(sock, size, deadline, None)
    if sizes is not None:
        sizes.append(HEADER.size + size)
    try:
        message = json.loads(body)
    except ValueError as exc:
        raise ProtocolError(f"not JSON ({exc})") from None
    return (message, fds) if with_fds else message


def _exact(sock, size, deadline, fds):
    chunks, left = [], size
    while left:
        if deadline is None:
            sock.settimeout(None)
        else:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer in time")
            sock.settimeout(remaining)
        try:
            if fds is not None:
                chunk, ancillary, _, _ = sock.recvmsg(left, socket.CMSG_SPACE(16 * 4))
                for level, kind, data in ancillary:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds.extend(array.array("i", data[:len(data) - len(data) % 4]))
                fds = None  # descriptors come with the first bytes only
            else:
                chunk = sock.recv(min(left, 1 << 20))
        except socket.timeout:
            raise TimeoutError("no answer in time") from None
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise PeerGone(str(exc)) from None
        if not chunk:
            raise PeerGone("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- values

def encode(obj, depth=0):
    """``obj`` as JSON-able data: arrays and tensors as raw bytes, containers tagged."""
    if depth > MAX_DEPTH:
        raise ProtocolError("nested too deeply")
    if obj is None or type(obj) in (bool, str):
        return obj
    if isinstance(obj, bool):
        return bool(obj)
    np = sys.modules.get("numpy")
    if isinstance(obj, int) and not (np is not None and isinstance(obj, np.generic)):
        return {"__int__": str(int(obj))}
    if isinstance(obj, float) and not (np is not None and isinstance(obj, np.generic)):
        return {"__float__": float.hex(float(obj))}
    if isinstance(obj, str):
        return str(obj)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor):
        t = obj.detach()
        name = str(t.dtype).replace("torch.", "")
        if name not in TORCH_DTYPES:
            raise ProtocolError(f"a tensor of dtype {name}")
        if t.device.type == "meta":
            return {"__pt__": [name, list(t.shape), "meta", bool(obj.requires_grad), None]}
        data = t.to("cpu")
        if name == "bfloat16":
            data = data.to(torch.float32)
        raw = data.contiguous().numpy().tobytes()
        return {"__pt__": [name, list(t.shape), t.device.type, bool(obj.requires_grad),
                           base64.b64encode(raw).decode()]}
    if np is not None and isinstance(obj, (np.ndarray, np.generic)):
        a = np.asarray(obj)
        if a.dtype.name not in DTYPES or a.dtype.byteorder == ">":
            raise ProtocolError(f"an array of dtype {a.dtype}")
        return {"__nd__": [a.dtype.name, list(a.shape), base64.b64encode(
            np.ascontiguousarray(a).tobytes()).decode(), isinstance(obj, np.generic)]}
    if np is not None and isinstance(obj, np.random.Generator):
        bits = obj.bit_generator
        if type(bits).__name__ not in BIT_GENERATORS:
            raise ProtocolError(f"a generator on {type(bits).__name__}")
        return {"__rng__": [type(bits).__name__, encode(bits.state, depth + 1)]}
    if isinstance(obj, dict):
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(obj)]}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in tuple.__iter__(obj)]}
    if isinstance(obj, list):
        return {"__list__": [encode(v, depth + 1) for v in list.__iter__(obj)]}
    raise ProtocolError(f"a {type(obj).__name__} cannot be sent")


def _count(shape):
    count = 1
    for n in shape:
        count *= n
    return count


def _shape(value):
    if not isinstance(value, list) or len(value) > 32 or not all(
            type(n) is int and 0 <= n < 2 ** 40 for n in value):
        raise ProtocolError("bad shape")
    return tuple(value)


def decode(data, depth=0):
    """Plain Python, NumPy and torch objects rebuilt from :func:`encode`'s data, strictly."""
    if depth > MAX_DEPTH:
        raise ProtocolError("nested too deeply")
    if data is None or type(data) in (bool, str):
        return data
    if type(data) is not dict or len(data) != 1:
        raise ProtocolError(f"unexpected {type(data).__name__}")
    (tag, value), = data.items()
    if tag == "__int__":
        if type(value) is not str or len(value) > 4000:
            raise ProtocolError("bad int")
        return int(value)
    if tag == "__float__":
        if type(value) is not str:
            raise ProtocolError("bad float")
        return float.fromhex(value)
    if tag in ("__list__", "__tuple__"):
        if type(value) is not list:
            raise ProtocolError("bad sequence")
        items = [decode(v, depth + 1) for v in value]
        return items if tag == "__list__" else tuple(items)
    if tag == "__dict__":
        if type(value) is not list:
            raise ProtocolError("bad dict")
        out = {}
        for pair in value:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("bad dict item")
            key = decode(pair[0], depth + 1)
            if not isinstance(key, (str, int, float, bool, tuple, type(None))):
                raise ProtocolError("bad dict key")
            out[key] = decode(pair[1], depth + 1)
        return out
    if tag == "__nd__":
        import numpy as np

        if type(value) is not list or len(value) != 4 or value[0] not in DTYPES or type(value[2]) is not str:
            raise ProtocolError("bad array")
        dtype, shape, raw = np.dtype(value[0]), _shape(value[1]), base64.b64decode(value[2])
        if len(raw) != dtype.itemsize * _count(shape):
            raise ProtocolError("array size does not match its shape")
        out = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        return out[()] if value[3] is True else out
    if tag == "__rng__":
        import numpy as np

        if type(value) is not list or len(value) != 2 or value[0] not in BIT_GENERATORS:
            raise ProtocolError("bad generator")
        bits = getattr(np.random, value[0])()
        try:
            bits.state = decode(value[1], depth + 1)
        except (TypeError, ValueError, KeyError) as exc:
            raise ProtocolError(f"bad generator state ({exc})") from None
        return np.random.Generator(bits)
    if tag == "__pt__":
        import numpy as np
        import torch

        if type(value) is not list or len(value) != 5 or value[0] not in TORCH_DTYPES:
            raise ProtocolError("bad tensor")
        name, shape, device, requires_grad, raw = value
        shape, dtype = _shape(shape), getattr(torch, name)
        if device not in ("cpu", "cuda", "mps", "meta"):
            raise ProtocolError("bad device")
        if device == "meta":
            t = torch.empty(shape, dtype=dtype, device="meta")
        else:
            if type(raw) is not str:
                raise ProtocolError("bad tensor data")
            np_dtype = "float32" if name == "bfloat16" else name
            raw = base64.b64decode(raw)
            if len(raw) != np.dtype(np_dtype).itemsize * _count(shape):
                raise ProtocolError("tensor size does not match its shape")
            t = torch.from_numpy(np.frombuffer(raw, dtype=np_dtype).reshape(shape).copy()).to(dtype)
            if device != "cpu":
                try:
                    t = t.to(device)
                except Exception:  # noqa: BLE001 - that device is not here: keep the numbers
                    pass
        if requires_grad is True and t.is_floating_point():
            t.requires_grad_(True)
        return t
    raise ProtocolError(f"unknown tag {tag!r}")
