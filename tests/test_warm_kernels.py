"""Warm kernels: forked from a zygote in the sandbox, and nothing passes from one to the next.

Each test drives real kernels through ``jupyter_client``, started by the relay command a
grading job's kernelspec holds, as nbclient starts them during ``course grade``.
"""
import json
import os
import tempfile
from pathlib import Path

import pytest

from autograder.sandbox import KERNEL_NAME, SandboxPolicy, bwrap_available, write_kernelspec
from autograder.warm_kernels import WarmKernelPool, kernel_request, relay_argv

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not bwrap_available(), reason="warm kernels run in bubblewrap")]


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    hidden = tmp_path_factory.mktemp("hidden")
    (hidden / "reference.py").write_text("SECRET = 42\n")
    pool = WarmKernelPool(1, SandboxPolicy(scratch=Path("/nonexistent"), hidden=(hidden,),
                                           env={"OMP_NUM_THREADS": "1"}))
    pool.hidden = hidden
    yield pool
    pool.close()


class Kernel:
    """One warm kernel from ``pool``, as a grading job starts it (a kernelspec with the relay)."""

    def __init__(self, pool, memory_bytes=4 * 1024 ** 3):
        from jupyter_client import KernelManager

        self.pool, self.zygote = pool, pool.acquire()
        assert self.zygote is not None, "the zygote did not start"
        self.private = Path(tempfile.mkdtemp())  # the job's own folder, outside the sandbox
        self.folder = self.zygote.new_job_folder()
        request = kernel_request(self.folder, memory_bytes, 0, {"OMP_NUM_THREADS": "1"})
        (self.private / "request.json").write_text(json.dumps(request))
        write_kernelspec(self.private / "kernels", SandboxPolicy(scratch=self.folder / "scratch"),
                         argv=relay_argv(self.zygote.socket_path, str(self.private / "request.json")))
        os.environ["JUPYTER_PATH"] = str(self.private / "kernels")
        runtime = self.folder / "runtime"
        self.manager = KernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=str(runtime / "kernel"),
                                     connection_file=str(runtime / "kernel.json"))
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str) -> str:
        """Execute ``code``; its printed text (an error's name and value if it raised)."""
        msg_id = self.client.execute(code)
        out = []
        while True:
            msg = self.client.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)

    def close(self):
        self.manager.shutdown_kernel(now=False)
        self.client.stop_channels()
        self.pool.release(self.zygote)


def test_a_warm_kernel_has_torch_before_its_first_line(pool):
    """Is torch already imported (and its first optimizer step cheap), in the job's own folder?"""
    kernel = Kernel(pool)
    try:
        out = kernel.run(
            "import sys, os, time\n"
            "print('preloaded', 'torch' in sys.modules, 'matplotlib.pyplot' in sys.modules)\n"
            "t = time.perf_counter(); import torch\n"
            "p = torch.zeros(2, requires_grad=True); p.grad = torch.ones(2); torch.optim.Adam([p]).step()\n"
            "print('first step ms', round((time.perf_counter() - t) * 1000))\n"
            "print('cwd', os.getcwd(), os.environ['HOME'])")
        assert "preloaded True True" in out, out
        assert int(out.split("first step ms ")[1].split()[0]) < 500, out
        scratch = str(kernel.folder / "scratch")
        assert f"cwd {scratch} {scratch}" in out
    finally:
        kernel.close()


def test_nothing_passes_from_one_submission_to_the_next(pool):
    """Do a file in /tmp, a file in the shared work folder, an IPython startup file and a
    process left running by one kernel all be gone for the next kernel of the same zygote?"""
    first = Kernel(pool)
    try:
        out = first.run(
            "import os, subprocess\n"
            "open('/tmp/planted.py', 'w').write('x')\n"
            "open(os.path.join(os.path.dirname(os.getcwd()), '..', 'planted'), 'w').write('x')\n"
            "d = os.path.expanduser('~/../tmp/ipython/profile_default/startup'); os.makedirs(d, exist_ok=True)\n"
            "daemon = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
            "print('daemon', daemon.pid)")
        daemon = int(out.split("daemon ")[1].split()[0])
        work = first.folder.parent
    finally:
        first.close()
    second = Kernel(pool)
    try:
        out = second.run(
            "import os\n"
            f"print('daemon alive', os.path.exists('/proc/{daemon}'))\n"
            "print('tmp', sorted(os.listdir('/tmp')))\n"
            f"print('work', sorted(os.listdir({str(work)!r})))\n")
        assert "daemon alive False" in out, out
        assert "planted" not in out, out
        assert f"work ['{second.folder.name}']" in out, out
    finally:
        second.close()


def test_a_kernel_cannot_reach_the_zygote_or_the_hidden_folder(pool):
    """Can a kernel read its zygote's memory, see its control socket, or read the hidden files?"""
    kernel = Kernel(pool)
    try:
        out = kernel.run(
            "import os\n"
            "try:\n"
            "    open(f'/proc/{os.getppid()}/mem', 'rb').read(1); print('READ ZYGOTE')\n"
            "except OSError as e:\n    print('refused', type(e).__name__)\n"
            f"print('socket', os.path.exists({kernel.zygote.socket_path!r}))\n"
            f"print('hidden', os.listdir({str(pool.hidden)!r}))\n")
        assert "READ ZYGOTE" not in out and "refused" in out, out
        assert "socket False" in out and "hidden []" in out, out
    finally:
        kernel.close()


def test_killing_the_relay_ends_the_kernel_and_the_zygote_serves_on(pool):
    """When grading gives up on a submission (its relay killed), does its kernel die, and does
    the zygote start the next kernel?"""
    kernel = Kernel(pool)
    pid = int(kernel.run("import os; print(os.getpid())").split()[0])
    kernel.manager.provisioner.process.kill()  # what killing the job's process group does
    kernel.client.stop_channels()
    pool.release(kernel.zygote)
    after = Kernel(pool)
    try:
        assert "alive False" in after.run(f"import os; print('alive', os.path.exists('/proc/{pid}'))")
    finally:
        after.close()
