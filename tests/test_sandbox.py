"""The sandbox, the data-only channel and the integrity rules, without running a notebook."""
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from autograder.grade.integrity import imports_autograder, library_calls
from autograder.sandbox.policy import SandboxPolicy, bwrap_available, sandboxed
from autograder.settings import COURSE_ROOT
from autograder.sandbox.protocol import ProtocolError, decode, encode
from autograder.grade.verdicts import HiddenCheck, hidden_blocks, parse_hidden

needs_bwrap = pytest.mark.skipif(not bwrap_available(), reason="bubblewrap is not available here")


def run_sandboxed(code: str, tmp_path: Path, hidden=(), memory_mb=0):
    policy = SandboxPolicy(scratch=tmp_path, hidden=tuple(hidden), memory_bytes=memory_mb * 2 ** 20)
    return subprocess.run(sandboxed([sys.executable, "-c", code], policy), capture_output=True,
                          text=True, timeout=120)


@needs_bwrap
def test_sandbox_hides_writes_and_network(tmp_path):
    """Does sandboxed code see the hidden folder empty, write only its scratch, reach no network?"""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answer.txt").write_text("42")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    in_repository = COURSE_ROOT / f"written-by-sandbox-{os.getpid()}.txt"  # wherever the repo lives
    code = "\n".join([
        "import os, socket",
        f"print('hidden', os.listdir({str(secret)!r}))",
        "open('mine.txt', 'w').write('ok')",
        f"for path in [{str(in_repository)!r}, {str(tmp_path / 'outside.txt')!r}]:",
        "    try:\n        open(path, 'w')\n        print('WROTE', path)\n    except OSError as e:\n        print('refused', e.errno)",
        "try:\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n    print('NETWORK')\nexcept OSError:\n    print('no network')",
    ])
    result = run_sandboxed(code, scratch, hidden=[secret])
    assert result.returncode == 0, result.stderr
    assert "hidden []" in result.stdout and "NETWORK" not in result.stdout
    # the repository is read-only (or, under /tmp, behind the sandbox's throwaway /tmp)
    assert not in_repository.exists()
    if not COURSE_ROOT.resolve().is_relative_to("/tmp"):
        assert f"WROTE {in_repository}" not in result.stdout and "refused" in result.stdout
    # /tmp inside is a throwaway tmpfs: a write there never reaches the real /tmp
    assert (scratch / "mine.txt").read_text() == "ok" and not (tmp_path / "outside.txt").exists()


def test_memory_limit_gives_a_memory_error(tmp_path):
    """Does a memory bomb meet the address-space limit as a MemoryError?"""
    result = run_sandboxed("b = bytearray(3 * 1024 ** 3)\nprint('ALLOCATED')", tmp_path, memory_mb=1024)
    assert "MemoryError" in result.stderr and "ALLOCATED" not in result.stdout


def test_codec_rebuilds_plain_objects():
    """Does data cross the channel as plain arrays, tensors, dicts, numbers and random
    generators, exactly (a generator goes on drawing what the original draws)?"""
    rng = np.random.default_rng(7)
    value = {"step": 3, "m": np.arange(6.0).reshape(2, 3), "t": torch.tensor([1.5, -2.0], dtype=torch.float32),
             "meta": torch.empty(2, 2, device="meta"), (1, "k"): [None, True, 2.5, float("nan")], "rng": rng}
    back = decode(json.loads(json.dumps(encode(value))))
    assert back["step"] == 3 and np.array_equal(back["m"], value["m"]) and back["m"].dtype == np.float64
    assert back["t"].dtype == torch.float32 and torch.equal(back["t"], value["t"])
    assert back["meta"].device.type == "meta" and np.isnan(back[(1, "k")][3])
    assert np.array_equal(back["rng"].random(5), rng.random(5))


def test_a_frame_that_stalls_half_way_costs_its_deadline():
    """Does a reader give up at its deadline when the other side sends half a frame and stops,
    and say so when the other side is gone?"""
    import socket
    import time

    from autograder.sandbox.protocol import PeerGone, receive, send

    ours, theirs = socket.socketpair()
    theirs.sendall(b"\0\0\0\0\0\0\0\x10{")  # 16 bytes announced, 1 sent
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        receive(ours, time.monotonic() + 0.5)
    assert time.monotonic() - began < 5
    theirs.close()
    with pytest.raises(PeerGone):
        receive(ours, time.monotonic() + 5)
    left, right = socket.socketpair()
    send(left, {"op": "call", "args": [1, 2.5, "x"]})
    assert receive(right, time.monotonic() + 5) == {"op": "call", "args": [1, 2.5, "x"]}


def test_codec_refuses_objects_with_behaviour():
    """Can a returned object with a lying __eq__ reach the grader? It cannot be sent; a
    lying ndarray subclass arrives as a plain ndarray."""
    class Liar:
        def __eq__(self, other):
            return True
    with pytest.raises(ProtocolError):
        encode(Liar())

    class LyingArray(np.ndarray):
        def __eq__(self, other):
            return np.ones_like(self, dtype=bool)
    back = decode(encode(np.zeros(3).view(LyingArray)))
    assert type(back) is np.ndarray
    with pytest.raises(ProtocolError):
        decode({"__nd__": ["float64", [1000], "AAAA", False]})  # size does not match the shape


def test_calling_the_library_is_found_through_aliases_and_helpers():
    """Is torch.optim.Adam found when imported under another name or called through a helper?"""
    cells = ["import torch\nfrom torch import optim as o",
             "def _inner(p, g, s, lr):\n    return o.Adam([p], lr=lr)",
             "def adam_step(param, grad, state, lr=1e-3, **kw):\n    return _inner(param, grad, state, lr)",
             "class Adam(torch.optim.Optimizer):\n    pass",
             "from sklearn.metrics import roc_auc_score as auc\ndef my_auc(y, s):\n    return auc(y, s)"]
    assert library_calls(cells, "adam_step") == ["torch.optim.Adam"]
    assert library_calls(cells, "Adam") == []           # subclassing Optimizer is the exercise
    assert library_calls(cells, "my_auc") == ["sklearn.metrics"]
    course_metrics = ["from course.confusion import ConfusionMatrix",
                      "def my_precision(y, y_hat):\n    return ConfusionMatrix(2).update(y_hat, y).precision()"]
    assert library_calls(course_metrics, "my_precision") == ["course.confusion"]
    assert imports_autograder(["import numpy", "from autograder.reference.adam import adam_step"])
    assert not imports_autograder(["import numpy as np"])


def test_every_hidden_block_in_the_solutions_is_in_the_agreed_form():
    """Is every hidden test cell of every assignment `from autograder.checks.M import check_x`
    then `check_x(student_name).assert_passed()`, so its verdict can be judged outside the kernel?"""
    blocks = [b for nb_path in sorted((COURSE_ROOT / "solutions").glob("*/*.ipynb"))
              for b in hidden_blocks(nbformat.read(nb_path, 4))]
    assert blocks
    for block in blocks:
        assert parse_hidden(block) is not None, block
    assert parse_hidden("from autograder.checks.optimizers import check_adam_class\n"
                        "check_adam_class(Adam).assert_passed()\n") == \
        [HiddenCheck("autograder.checks.optimizers", "check_adam_class", "Adam")]
    assert parse_hidden("import autograder\nassert True") is None


def test_a_venv_or_clone_under_tmp_stays_visible(monkeypatch, tmp_path):
    """When the interpreter's environment lives under /tmp (a clone or venv there), does the
    sandbox bind it back over its empty /tmp, before hiding the checks?"""
    from autograder.sandbox import policy as sandbox

    venv = Path("/tmp") / "some-clone" / ".venv"
    monkeypatch.setattr(sandbox.sys, "prefix", str(venv))
    assert str(venv) in sandbox._needed_in(sandbox._veiled())
    if sandbox.bwrap_available():
        policy = sandbox.SandboxPolicy(scratch=tmp_path, hidden=(tmp_path / "hidden",))
        (tmp_path / "hidden").mkdir()
        argv = sandbox.sandboxed(["true"], policy)
        i_tmp, i_bind = argv.index("/tmp"), argv.index(str(venv))
        i_hidden = argv.index(str((tmp_path / "hidden").resolve()))
        assert i_tmp < i_bind < i_hidden


@needs_bwrap
def test_home_and_the_rest_of_the_repository_are_out_of_sight(tmp_path, monkeypatch):
    """Does a sandboxed student see the course library and the environment, but neither the
    grader's home (keys, tokens) nor the repository's tests, benchmarks and ``.git`` (whose
    objects hold the solutions)?"""
    import course

    from autograder.sandbox.policy import hidden_paths
    from autograder.settings import COURSE_ROOT

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY")
    monkeypatch.setenv("HOME", str(home))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    hidden = hidden_paths(COURSE_ROOT, "solutions", tmp_path / "out", tmp_path / "subs")
    root = Path(course.__file__).resolve().parent.parent
    code = "\n".join([
        "import os, course, numpy",
        f"print('home', sorted(os.listdir({str(home)!r})) if os.path.isdir({str(home)!r}) else None)",
        f"print('tests', os.listdir({str(root / 'tests')!r}))",
        f"print('git', os.path.isdir({str(root / '.git')!r}) and os.listdir({str(root / '.git')!r}))",
        f"print('course', 'data.py' in os.listdir({str(root / 'course')!r}))",
    ])
    policy = SandboxPolicy(scratch=scratch, hidden=tuple(hidden))
    result = subprocess.run(sandboxed([sys.executable, "-c", code], policy), capture_output=True,
                            text=True, timeout=120, env={**os.environ, "HOME": str(home)})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "PRIVATE" not in out and ".ssh" not in out, out
    assert "tests []" in out and "course True" in out, out
    assert "git []" in out or "git False" in out, out
    # outside the sandbox, all of it is there
    assert (root / "tests").is_dir() and any((root / "tests").iterdir())
