"""Fixtures for the browser tests: Debian's Chromium through Playwright, one JupyterLab per session.

- ``chromium``: a Playwright browser context on ``/usr/bin/chromium`` (``BROWSER_CHROMIUM``
  overrides), headless, with a fresh profile folder; skipped with one clear reason when
  Chromium is not installed (``tools/install_browser.sh`` installs it as root).
- ``lab``: ``jupyter lab`` on a free loopback port, serving a temporary copy of the course's
  notebooks; shared by the whole session and shut down (kernels included) at the end. Its
  kernels run with ``COURSE_STATIC=0`` (live widgets) and ``COURSE_QUICK=1`` (heavy cells at
  their quick size, as in the other notebook tests, so that Run All stays short on a CPU).
- ``page``: a new tab per test.
- ``lecture_runs(path, keep=False)``: a lecture opened and run (Run All) in its own tab; the
  optimizers lecture is kept open so the widget test reuses its live kernel.
- ``screenshot(page, name)``: saves a PNG into the session's screenshot folder
  (``$BROWSER_SCREENSHOTS``, or ``build/browser-screenshots/`` in the repository, which git
  ignores); the folder and the figures the tests measured are printed at the end of the run.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

import lab_page
from course_paths import REPO
from lab_server import LabServer, copy_course

CHROMIUM = os.environ.get("BROWSER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 900}

#: the kernels' environment: live widgets (not their static fallback), heavy cells at their
#: quick size (``course.device.workload``), as in the other notebook tests
LAB_ENV = {"COURSE_STATIC": "0", "COURSE_QUICK": "1"}

_SCREENSHOTS = pytest.StashKey[Path]()
_REPORT = pytest.StashKey[list]()


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return (f"Chromium not found at {CHROMIUM}: install it with `tools/install_browser.sh` "
                "as root (Debian package chromium), or set BROWSER_CHROMIUM")
    if importlib.util.find_spec("playwright") is None:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    return None


def pytest_configure(config):
    config.stash[_REPORT] = []


def pytest_terminal_summary(terminalreporter, config):
    lines = list(config.stash.get(_REPORT, []))
    folder = config.stash.get(_SCREENSHOTS, None)
    if folder is not None and folder.exists() and any(folder.iterdir()):
        lines.append(f"browser screenshots: {folder}")
    if lines:
        terminalreporter.section("browser")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def report(pytestconfig):
    """``report("...")`` prints the line in the run's summary (latencies, timings)."""
    def add(line: str) -> None:
        pytestconfig.stash[_REPORT].append(line)
        print(line)
    return add


@pytest.fixture(scope="session")
def chromium_path() -> str:
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium(chromium_path, tmp_path_factory):
    """A headless Chromium (Playwright persistent context) with a fresh profile folder."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS,
            viewport=VIEWPORT, device_scale_factor=1)
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(chromium):
    tab = chromium.new_page()
    yield tab
    tab.close()


@pytest.fixture(scope="session")
def lab(chromium_path, tmp_path_factory):
    """JupyterLab on a temporary copy of ``course/lectures`` and ``course/assignments``."""
    root = tmp_path_factory.mktemp("lab-root")
    copy_course(REPO / "course", root)
    server = LabServer(root=root, state=tmp_path_factory.mktemp("lab-state"), env=LAB_ENV).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class LectureRun:
    """A lecture after Run > Run All Cells in its own tab (kept open when asked to)."""

    page: object
    cells: list
    seconds: float


@pytest.fixture(scope="session")
def lecture_runs(lab, chromium):
    """``lecture_runs(path, keep=False)``: open a lecture, Run All, return a :class:`LectureRun`.

    A kept run stays open with its kernel (its widgets stay live) and is returned again by
    later calls; any other tab is closed and its kernel shut down once the caller is done
    (``run.close()``).
    """
    kept: dict[str, LectureRun] = {}

    def run(lecture: Path, keep: bool = False) -> LectureRun:
        if lecture.name in kept:
            return kept[lecture.name]
        relative = f"course/lectures/{lecture.name}"
        tab = chromium.new_page()
        try:
            lab_page.open_notebook(tab, lab.notebook_url(relative))
            started = tab.evaluate("performance.now()")
            cells = lab_page.run_all(tab, timeout=300)
        except Exception:
            tab.close()
            lab.shutdown_kernels(relative)  # a kernel still busy would hold up the next test
            raise
        result = LectureRun(tab, cells, (tab.evaluate("performance.now()") - started) / 1000)
        if keep:
            kept[lecture.name] = result
            result.close = lambda: None
        else:
            def close():
                tab.close()
                lab.shutdown_kernels(relative)
            result.close = close
        return result

    yield run
    for result in kept.values():
        result.page.close()


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig) -> Path:
    """``$BROWSER_SCREENSHOTS``, or ``build/browser-screenshots`` (emptied of old PNGs first)."""
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    path = Path(folder) if folder else REPO / "build" / "browser-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    if not folder:
        for old in path.glob("*.png"):
            old.unlink()
    pytestconfig.stash[_SCREENSHOTS] = path
    return path


@pytest.fixture(scope="session")
def screenshot(screenshot_dir):
    """``screenshot(page_or_locator, "name")`` -> the PNG's path in the screenshot folder."""
    def take(target, name: str, **kwargs) -> Path:
        path = screenshot_dir / f"{name}.png"
        target.screenshot(path=str(path), **kwargs)
        return path
    return take
