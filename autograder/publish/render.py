"""Readable renderings of the lectures: each lecture executed once, saved with its outputs.

Students read ``course/lectures/rendered/<lecture>.ipynb`` (in JupyterLab, or any notebook
viewer) with every figure and number in place, without running anything; ``course slides``
turns the same renderings into offline HTML pages. ``course render`` produces them:

- each lecture is executed headless (``COURSE_STATIC=1``: interactive figures leave their
  static figure) at one size (``--size``, default: the size for this machine,
  :func:`course.device.current_size`), with ``COURSE_RECORD`` set, so that the comparisons
  and claims the lecture makes are kept beside the rendering as ``<lecture>.records.jsonl``;
- a first cell says which device and size produced the numbers, when, and how long it took;
- the notebook's metadata carries the fingerprint of the lecture's cell sources
  (:func:`fingerprint`): the test suite fails when a lecture has changed since its rendering
  (:func:`stale_renderings`), so a rendering never shows the output of other code.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat

__all__ = ["render_lectures", "fingerprint", "stale_renderings", "RENDERED_DIR", "rendering_of"]

#: renderings live beside the lectures, in this folder
RENDERED_DIR = "rendered"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def fingerprint(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of the cells' types and sources: what decides a rendering's outputs."""
    cells = [[cell.cell_type, cell.source] for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


def rendering_of(lecture: Path) -> Path:
    """Where the rendering of ``lecture`` lives: ``lectures/rendered/<name>.ipynb``."""
    return lecture.parent / RENDERED_DIR / lecture.name


def _header(lecture: Path, info: dict) -> nbformat.NotebookNode:
    size = {"full": "full size (the GPU run)", "cpu": "CPU size (what a laptop CPU runs)",
            "quick": "quick size (the smallest, as in CI: numbers are not meaningful)"}[info["size"]]
    cell = nbformat.v4.new_markdown_cell(
        f"> **Rendered lecture.** This is `{lecture.name}` as executed on **{info['device']}** at its "
        f"**{size}** on {info['date'][:10]} ({info['seconds']:.0f} s). Every figure and number below comes "
        f"from that run. To run it yourself, open `../{lecture.name}`: on a GPU the heavy cells take their "
        f"full size, on a CPU their CPU size, so your numbers can differ from these.")
    cell.metadata["slideshow"] = {"slide_type": "skip"}
    cell.metadata["tags"] = ["rendering-header"]
    return cell


def _drop_live_widgets(nb: nbformat.NotebookNode) -> None:
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                output.get("data", {}).pop(WIDGET_VIEW, None)


def render_lectures(lectures_dir, out_dir=None, *, size: str | None = None, timeout: int = 1800,
                    names=None, on_done=None) -> list[Path]:
    """Execute the lectures of ``lectures_dir`` and write their renderings; return the paths.

    ``out_dir`` defaults to ``lectures_dir/rendered``; ``names`` limits it to some lectures
    (stems such as ``"01_metrics"``); ``on_done(path, seconds)`` is called after each one.
    A lecture whose cell raises stops with nbclient's error, and no rendering of it is written.
    """
    from nbclient import NotebookClient

    from course.device import SIZES, current_size, describe_device

    lectures_dir = Path(lectures_dir)
    out_dir = Path(out_dir) if out_dir is not None else lectures_dir / RENDERED_DIR
    lectures = sorted(p for p in lectures_dir.glob("*.ipynb") if not p.name.startswith("."))
    if names:
        lectures = [p for p in lectures if p.stem in set(names)]
    if not lectures:
        raise FileNotFoundError(f"no lecture notebooks to render in {lectures_dir}")
    if size is not None and size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lecture in lectures:
        nb = nbformat.read(lecture, as_version=4)
        source = fingerprint(nb)
        records = out_dir / f"{lecture.stem}.records.jsonl"
        partial = records.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        env = {**os.environ, "COURSE_STATIC": "1", "COURSE_RECORD": str(partial),
               "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        env.pop("NBGRADER_EXECUTION", None)
        env.pop("COURSE_QUICK", None)
        if size is not None:
            env["COURSE_SIZE"] = size
        chosen = size or current_size()
        started = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                       resources={"metadata": {"path": str(lecture.parent)}}).execute(env=env)
        seconds = time.perf_counter() - started
        _drop_live_widgets(nb)
        info = {"fingerprint": source, "size": chosen, "device": describe_device(),
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seconds": round(seconds, 1)}
        nb.metadata.setdefault("course", {})["rendered"] = info
        nb.cells.insert(0, _header(lecture, info))
        path = out_dir / lecture.name
        nbformat.write(nb, path)
        if partial.exists():
            partial.replace(records)
        else:
            records.unlink(missing_ok=True)
        written.append(path)
        if on_done is not None:
            on_done(path, seconds)
    return written


def stale_renderings(lectures_dir) -> list[str]:
    """One line per lecture whose rendering is missing or was made from other cell sources."""
    lectures_dir = Path(lectures_dir)
    problems = []
    for lecture in sorted(lectures_dir.glob("*.ipynb")):
        rendered = rendering_of(lecture)
        if not rendered.is_file():
            problems.append(f"{lecture.name}: no rendering (run `course render`)")
            continue
        info = nbformat.read(rendered, as_version=4).metadata.get("course", {}).get("rendered", {})
        if info.get("fingerprint") != fingerprint(nbformat.read(lecture, as_version=4)):
            problems.append(f"{lecture.name}: changed since its rendering of {info.get('date', '?')[:10]} "
                            f"(run `course render {lecture.stem}`)")
    return problems
