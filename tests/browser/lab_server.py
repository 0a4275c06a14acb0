"""A JupyterLab server for the browser tests: started on a free loopback port, stopped cleanly.

The server runs on a temporary copy of the course, with its own (temporary) Jupyter
config, runtime, user-settings and workspace folders, so a test run neither reads nor
changes the user's Jupyter state. User settings make JupyterLab quiet and predictable:
no news or update checks, every notebook cell rendered (no virtual scrolling), the default
kernel started without a dialog.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

#: user settings written for every test server: ``{plugin id: settings}``
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {
        "windowingMode": "none",          # render every cell, so the DOM shows every output
        "autoStartDefaultKernel": True,   # no "select a kernel" dialog
    },
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_course(course_dir: Path, root: Path) -> Path:
    """Copy the notebooks students see (``lectures/``, ``assignments/``) under ``root/course``."""
    target = root / "course"
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc")
    for part in ("lectures", "assignments"):
        if (course_dir / part).is_dir():
            shutil.copytree(course_dir / part, target / part, ignore=ignore)
        else:
            (target / part).mkdir(parents=True, exist_ok=True)
    return target


def _write_settings(settings_dir: Path) -> None:
    for plugin_id, values in LAB_SETTINGS.items():
        package, plugin = plugin_id.split(":")
        path = settings_dir / package / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@dataclass
class LabServer:
    """``jupyter lab`` on ``root`` at ``http://127.0.0.1:port/`` with a random token."""

    root: Path
    state: Path  # config, runtime, settings, workspaces, logs of this server
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    python: str = sys.executable  # the environment JupyterLab (and its kernels) run in
    _workspaces: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.state / "jupyterlab.log"

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def notebook_url(self, notebook: str) -> str:
        """A JupyterLab URL that opens ``notebook`` (a root-relative path) alone, in a new workspace.

        Each call names a workspace of its own: JupyterLab would otherwise restore every
        notebook that an earlier tab opened in the default workspace.
        """
        self._workspaces += 1
        return self.url(f"lab/workspaces/test-{self._workspaces}/tree/{notebook}")

    def start(self, timeout: float = 90.0) -> "LabServer":
        for sub in ("config", "runtime", "data", "settings", "workspaces", "ipython"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        _write_settings(self.state / "settings")
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.state / "config"),
            "JUPYTER_RUNTIME_DIR": str(self.state / "runtime"),
            "JUPYTER_DATA_DIR": str(self.state / "data"),
            "JUPYTERLAB_SETTINGS_DIR": str(self.state / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.state / "workspaces"),
            "IPYTHONDIR": str(self.state / "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        for var in ("COURSE_STATIC", "COURSE_QUICK", "NBGRADER_EXECUTION"):
            if var not in self.env:
                env.pop(var, None)  # the browser is a live session: widgets, not fallbacks
        cmd = [
            self.python, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=None",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI and containers run as root
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        """Ask the server to shut down (kernels included); terminate it if it does not."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            request = urllib.request.Request(self.url("api/shutdown"), method="POST", data=b"")
            urllib.request.urlopen(request, timeout=5).close()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the server's own process group: it and its kernels
            self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def shutdown_kernels(self, notebook: str | None = None) -> None:
        """Shut down the kernel sessions of ``notebook`` (a root-relative path), or all of them."""
        for session in self.api("api/sessions") or []:
            if notebook is None or session.get("path") == notebook:
                self.api(f"api/sessions/{session['id']}", method="DELETE")

    def api(self, path: str, method: str = "GET", body: dict | None = None):
        """Call the server's REST API; returns the decoded JSON (or None)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url(path), method=method, data=data,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
        return json.loads(payload) if payload else None
