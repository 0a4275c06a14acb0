"""How fast a class is graded: figures to read, not a timed test.

    .venv/bin/python -m benchmarks.grading                 # 40 submissions, all cores
    .venv/bin/python -m benchmarks.grading --students 8    # a quick look
    .venv/bin/python -m benchmarks.grading --skip-plain    # our pipeline only

A class of ``--students`` optimizers submissions (the sample class's perfect student and
typical mistakes, repeated) is graded twice on the same machine:

1. plain sequential ``nbgrader autograde``: one course, the repository's nbgrader settings,
   the hidden tests in the student's kernel, one student after another (``NbGraderAPI``);
2. ``course grade``'s pipeline (:func:`autograder.grading.grade_class`): sandboxed kernels
   forked warm (``--cold`` to start each from scratch), hidden checks judged outside them,
   ``--jobs`` workers, one gradebook writer, feedback.

Printed: seconds per submission for each, the speedup, whether every student's total is
identical in both, the peak resident memory of the grading process tree (this process and
its children, sampled), and the load average before and after. Target on a 2-core machine:
a speedup of at least 1.8 with identical grades.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import nbformat

from autograder.samples import mistakes_for, solved_notebook, with_mistake

ASSIGNMENT = "optimizers"


def make_class(folder: Path, students: int, lean: bool = False) -> list[str]:
    """``students`` submissions: the perfect notebook and each typical mistake, in turn.
    ``lean``: without the unmarked demo cells (plots, training), as a student may hand in."""
    perfect = solved_notebook(ASSIGNMENT)
    if lean:
        perfect.cells = [c for c in perfect.cells if c.cell_type != "code" or c.metadata.get("nbgrader")]
    kinds = [("perfect", perfect)] + [(sid, with_mistake(perfect, edits))
                                      for sid, edits in mistakes_for(ASSIGNMENT).items()]
    ids = []
    for i in range(students):
        kind, nb = kinds[i % len(kinds)]
        sid = f"s{i:03d}-{kind}"
        (folder / sid).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / sid / f"{ASSIGNMENT}.ipynb")
        ids.append(sid)
    return ids


def plain_nbgrader(submissions: Path, work: Path) -> dict[str, float]:
    """Sequential ``nbgrader autograde`` with this course's settings; ``{student: score}``."""
    from autograder.release import make_api
    from autograder.settings import COURSE_ROOT, GradingSettings

    settings = GradingSettings()
    (work / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(COURSE_ROOT / settings.source_directory / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                work / "source" / ASSIGNMENT)
    api = make_api(work, settings, **{"CourseDirectory.source_directory": "source",
                                      "CourseDirectory.release_directory": "release"})
    assert api.generate_assignment(ASSIGNMENT, force=True, create=True)["success"]
    for folder in sorted(submissions.iterdir()):
        dest = work / "submitted" / folder.name / ASSIGNMENT
        dest.mkdir(parents=True)
        shutil.copy(folder / f"{ASSIGNMENT}.ipynb", dest)
    scores = {}
    for folder in sorted(submissions.iterdir()):
        result = api.autograde(ASSIGNMENT, folder.name, force=True, create=True)
        assert result["success"], result.get("log")
    with api.gradebook as gb:
        for folder in submissions.iterdir():
            scores[folder.name] = float(gb.find_submission(ASSIGNMENT, folder.name).score)
    return scores


def ours(submissions: Path, out: Path, jobs: int | None, warm: bool = True) -> dict[str, float]:
    from dataclasses import replace

    from autograder.grading import grade_class
    from autograder.settings import GradingSettings

    run = grade_class(ASSIGNMENT, submissions, out, jobs=jobs,
                      settings=replace(GradingSettings(), warm_kernels=warm))
    bad = [r for r in run.results if not r.graded]
    assert not bad, [(r.student_id, r.status) for r in bad]
    return {r.student_id: r.score for r in run.results}


class PeakMemory:
    """Peak summed RSS of this process and all its descendants, sampled every 0.2 s."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
                rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, IndexError, ValueError):
                continue
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            total += rss.get(pid, 0)
            todo.extend(children.get(pid, []))
        return total

    def _run(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._tree_rss())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: one per core)")
    parser.add_argument("--skip-plain", action="store_true")
    parser.add_argument("--cold", action="store_true", help="our pipeline with cold kernels")
    parser.add_argument("--lean", action="store_true",
                        help="submissions without the demo cells (plots, training): faster")
    args = parser.parse_args(argv)

    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()}")
    from benchmarks.machine import MachineShare

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp, MachineShare() as share:
        tmp = Path(tmp)
        make_class(tmp / "class", args.students, args.lean)
        print(f"{args.students} submissions{' (lean)' if args.lean else ''}")
        plain_scores, plain_s = None, None
        if not args.skip_plain:
            with PeakMemory() as mem:
                start = time.perf_counter()
                plain_scores = plain_nbgrader(tmp / "class", tmp / "plain")
                plain_s = time.perf_counter() - start
            print(f"plain sequential nbgrader autograde: {plain_s:.1f} s, "
                  f"{plain_s / args.students:.2f} s per submission, peak memory {mem.peak / 2**20:.0f} MiB")
        with PeakMemory() as mem:
            start = time.perf_counter()
            our_scores = ours(tmp / "class", tmp / "ours", args.jobs, warm=not args.cold)
            our_s = time.perf_counter() - start
        print(f"course grade (sandboxed, {'cold' if args.cold else 'warm'} kernels, trusted checks, "
              f"jobs={args.jobs or os.cpu_count()}, feedback "
              f"included): {our_s:.1f} s, {our_s / args.students:.2f} s per submission, "
              f"peak memory {mem.peak / 2**20:.0f} MiB")
        if plain_s is not None:
            same = plain_scores == our_scores
            print(f"speedup over plain sequential nbgrader: {plain_s / our_s:.2f}x; "
                  f"grades identical: {same}")
            if not same:
                diff = {k: (plain_scores.get(k), our_scores.get(k)) for k in our_scores
                        if plain_scores.get(k) != our_scores.get(k)}
                print(f"  differing: {diff}")
    print(f"load average after: {os.getloadavg()}")
    print(share.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
