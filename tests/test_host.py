"""The student host: students' processes forked warm in the sandbox, and nothing passes from one
to the next. Each test drives a real host through the sessions grading uses."""
import time
from pathlib import Path

import pytest

from autograder.sandbox.host import BASE_PRELOAD, Host, Session, StudentGone, StudentStopped, preload_for
from autograder.grade.integrity import FORBIDDEN
from autograder.sandbox.policy import SandboxPolicy, bwrap_available, student_policy
from autograder.settings import GradingSettings

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not bwrap_available(), reason="student hosts run in bubblewrap")]


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    hidden = tmp_path_factory.mktemp("hidden")
    (hidden / "reference.py").write_text("SECRET = 42\n")
    policy = student_policy(GradingSettings(), [hidden], threads=1)
    host = Host(policy, 1, FORBIDDEN)
    assert host.ready(300), "the student host did not start"
    host.hidden = hidden
    yield host
    host.close()


def run(student, code: str, limit: float = 60) -> str:
    """Run ``code`` as a cell; its printed text (an error's name and value if it raised)."""
    reply = student.request({"op": "cell", "source": code}, limit)
    parts = []
    for output in reply["outputs"]:
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "".join(parts)


def test_a_student_process_has_torch_before_its_first_line(host):
    """Is torch already imported (its first optimizer step cheap), in the student's own folder,
    with the limits of the policy and NBGRADER_EXECUTION set?"""
    session = Session(host.address)
    try:
        student = session.start()
        out = run(student,
                  "import sys, os, time, resource\n"
                  "print('preloaded', 'torch' in sys.modules, 'matplotlib.pyplot' in sys.modules)\n"
                  "t = time.perf_counter(); import torch\n"
                  "p = torch.zeros(2, requires_grad=True); p.grad = torch.ones(2); torch.optim.Adam([p]).step()\n"
                  "print('first step ms', round((time.perf_counter() - t) * 1000))\n"
                  "print('cwd', os.getcwd(), os.environ['HOME'])\n"
                  "print('limit', resource.getrlimit(resource.RLIMIT_AS)[0], os.environ['NBGRADER_EXECUTION'])")
        assert "preloaded True True" in out, out
        assert int(out.split("first step ms ")[1].split()[0]) < 500, out
        cwd = out.split("cwd ")[1].split()[0]
        assert f"cwd {cwd} {cwd}" in out and Path(cwd).name == "scratch"
        assert f"limit {GradingSettings().memory_limit_mb * 1024 ** 2} autograde" in out, out
    finally:
        session.close()


def test_the_hosts_own_objects_are_out_of_the_students_collector(host):
    """Did the host freeze what it imported (gc.freeze), so that a student's process neither
    scans it in each collection nor copies its pages, while the student's garbage is collected?"""
    session = Session(host.address)
    try:
        out = run(session.start(),
                  "import gc, weakref\n"
                  "print('frozen', gc.get_freeze_count())\n"
                  "class Node: pass\n"
                  "a, b = Node(), Node(); a.other, b.other = b, a; gone = weakref.ref(a); del a, b\n"
                  "gc.collect(); print('cycle collected', gone() is None)")
        assert int(out.split("frozen ")[1].split()[0]) > 100_000, out
        assert "cycle collected True" in out, out
    finally:
        session.close()


def test_a_host_preloads_what_its_notebook_imports_and_never_the_autograder():
    """Top-level imports of the notebook's cells (magics and broken cells skipped), the names of
    ``from X import Y`` as possible modules, the base libraries first, the autograder never."""
    cells = ["%matplotlib inline\nimport numpy as np\nimport scipy.linalg as la\nfrom sklearn import metrics",
             "### BEGIN HIDDEN TESTS\nfrom autograder.checks.optimizers import check_adam\n### END HIDDEN TESTS",
             "def f():\n    import json\n    return json",
             "this is not python (",
             "import autograder.reference.adam, course.data"]
    found = preload_for(cells)
    assert found[:len(BASE_PRELOAD)] == BASE_PRELOAD
    assert found[len(BASE_PRELOAD):] == ["scipy.linalg", "sklearn", "sklearn.metrics", "course.data"]


def test_nothing_passes_from_one_submission_to_the_next(host):
    """Do a file in /tmp, a file in the shared work folder, an IPython startup file and a
    process left running by one student all be gone for the next student of the same host?"""
    first = Session(host.address)
    try:
        out = run(first.start(),
                  "import os, subprocess\n"
                  "open('/tmp/planted.py', 'w').write('x')\n"
                  "open(os.path.join(os.path.dirname(os.getcwd()), '..', 'planted'), 'w').write('x')\n"
                  "d = os.path.expanduser('~/../tmp/ipython/profile_default/startup'); os.makedirs(d, exist_ok=True)\n"
                  "daemon = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
                  "print('daemon', daemon.pid, 'work', os.path.dirname(os.path.dirname(os.getcwd())))")
        daemon, work = int(out.split("daemon ")[1].split()[0]), out.split("work ")[1].split()[0]
    finally:
        first.close()
    second = Session(host.address)
    try:
        out = run(second.start(),
                  "import os\n"
                  f"print('daemon alive', os.path.exists('/proc/{daemon}'))\n"
                  "print('tmp', sorted(os.listdir('/tmp')))\n"
                  f"print('work', len(os.listdir({work!r})), os.path.basename(os.path.dirname(os.getcwd())) in os.listdir({work!r}))\n")
        assert "daemon alive False" in out, out
        assert "planted" not in out, out
        assert "work 1 True" in out, out
    finally:
        second.close()


def test_a_student_cannot_reach_the_host_or_the_hidden_folder(host):
    """Can a student's process read its host's memory, see the host's socket, or read the
    hidden files?"""
    session = Session(host.address)
    try:
        out = run(session.start(),
                  "import os\n"
                  "try:\n"
                  "    open(f'/proc/{os.getppid()}/mem', 'rb').read(1); print('READ HOST')\n"
                  "except OSError as e:\n    print('refused', type(e).__name__)\n"
                  f"print('socket', os.path.exists({host.address!r}))\n"
                  f"print('hidden', os.listdir({str(host.hidden)!r}))\n")
        assert "READ HOST" not in out and "refused" in out, out
        assert "socket False" in out and "hidden []" in out, out
    finally:
        session.close()


def test_a_cell_past_its_limit_is_interrupted_and_the_process_serves_on(host):
    """Does an endless loop stop at its limit as a KeyboardInterrupt, within seconds, with the
    student's namespace still there for the next cell?"""
    session = Session(host.address)
    try:
        student = session.start()
        run(student, "kept = 41")
        began = time.monotonic()
        with pytest.raises(StudentStopped) as stopped:
            student.request({"op": "cell", "source": "while True:\n    pass"}, 1.0)
        assert time.monotonic() - began < 10
        assert stopped.value.reply["outputs"][-1]["ename"] == "KeyboardInterrupt"
        assert "42" in run(student, "print(kept + 1)")
    finally:
        session.close()


def test_killing_the_session_ends_the_student_and_the_host_serves_on(host):
    """When grading gives up on a submission (its worker killed, so its session closed), does
    its student's process die, and does the host start the next one? And does a student that
    ends its own process show as gone?"""
    session = Session(host.address)
    student = session.start()
    pid = int(run(student, "import os; print(os.getpid())").split()[0])
    session.control.close()  # what a killed worker leaves
    student.channel.close()
    after = Session(host.address)
    try:
        assert "alive False" in run(after.start(), f"import os; print('alive', os.path.exists('/proc/{pid}'))")
        with pytest.raises(StudentGone):
            after.student.request({"op": "cell", "source": "import os; os._exit(3)"}, 30)
        assert after.student.exited == 3
        assert "again" in run(after.start(), "print('again')")
    finally:
        after.close()
    assert host.alive()
