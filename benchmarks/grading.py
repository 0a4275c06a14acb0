"""How fast a class is graded: figures to read, not a timed test.

    .venv/bin/python -m benchmarks.grading                 # 40 submissions, all cores
    .venv/bin/python -m benchmarks.grading --students 8    # a quick look
    .venv/bin/python -m benchmarks.grading --skip-plain    # our pipeline only

A class of ``--students`` optimizers submissions (the sample class's perfect student and
typical mistakes, repeated) is graded twice on the same machine:

1. plain sequential ``nbgrader autograde``: one course, the repository's nbgrader settings,
   the hidden tests in the student's kernel, one student after another (``NbGraderAPI``);
2. ``course grade``'s pipeline (:func:`autograder.grade.class_run.grade_class`): students' processes
   forked warm from one sandboxed host per job (``--cold`` to start each from scratch),
   hidden checks judged outside them, ``--jobs`` workers, one gradebook writer, feedback.

Printed: seconds per submission for each and their ratio, whether every student's total is
identical in both, the peak memory of each process tree (sampled: resident pages summed, and
proportional, a page that forked processes share divided among them), where one submission's
time goes (worker start, nbgrader's sanitizing, the student's process start,
the cells' execution, the hidden checks, nbgrader's scoring, the feedback page; wall and CPU
seconds), the CPU the whole tree used by role and how busy that kept the cores, and the load
average. Target on a 2-core machine: at most 1.3 s per submission for the 40, with identical
grades.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.publish.samples import mistakes_for, solved_notebook, with_mistake

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
    from autograder.settings import make_api
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


def ours(submissions: Path, out: Path, jobs: int | None, warm: bool = True):
    """``course grade``'s pipeline on the class; its run (scores and timings)."""
    from dataclasses import replace

    from autograder.grade.class_run import grade_class
    from autograder.settings import GradingSettings

    run = grade_class(ASSIGNMENT, submissions, out, jobs=jobs,
                      settings=replace(GradingSettings(), warm_kernels=warm))
    bad = [r for r in run.results if not r.graded]
    assert not bad, [(r.student_id, str(r.status)) for r in bad]
    return run


#: the phases of one submission, as its timings name them: (label, wall key, CPU key)
PHASES = [("worker start (fork server)", "worker start", None),
          ("nbgrader sanitizing", "sanitize", None),
          ("student process start (fork)", "student process start", None),
          ("execution of the cells", "execution", "execution cpu (student)"),
          ("hidden checks", "checks", "checks cpu (grader)"),
          ("  of which the student's side", None, "checks cpu (student)"),
          ("verdicts, output limits", "finish", None),
          ("whole worker", "worker", "worker cpu"),
          ("nbgrader scoring (gradebook)", "record", "record cpu"),
          ("feedback page", "feedback", "feedback cpu")]


def breakdown(run) -> str:
    """Mean seconds (wall, and CPU where measured) per submission, phase by phase."""
    rows = [r.timings for r in run.results if r.timings]
    if not rows:
        return "no timings"

    def mean(key):
        values = [t[key] for t in rows if key in t]
        return sum(values) / len(values) if values else None

    lines = [f"  per submission (mean of {len(rows)}):    wall s    CPU s"]
    for label, wall, cpu in PHASES:
        w, c = (mean(wall) if wall else None), (mean(cpu) if cpu else None)
        lines.append(f"    {label:<32} {'' if w is None else f'{w:6.3f}':>7}  {'' if c is None else f'{c:6.3f}':>7}")
    lines.append("  once per class run: " + ", ".join(f"{k} {v:.1f} s" for k, v in run.timings.items()))
    return "\n".join(lines)


def memory(tree) -> str:
    """The tree's peak memory: resident pages summed over its processes (a page that forked
    processes share counted in each) and, where the kernel reports it, proportional (a shared
    page divided among them: what the tree takes from the machine)."""
    text = f"{tree.peak / 2**20:.0f} MiB resident summed"
    if tree.peak_proportional is not None:
        text += f" ({tree.peak_proportional / 2**20:.0f} MiB proportional)"
    return text


def role(command: str) -> str:
    """Which part of grading a process of the tree is, from its command line."""
    if "host_program" in command or "bwrap" in command or "prlimit" in command:
        return "student hosts and students (sandbox)"
    if "forkserver" in command or "multiprocessing" in command:
        return "fork server and grading workers"
    if "alembic" in command or "ipykernel" in command or "jupyter" in command:
        return "nbgrader's helpers and kernels"
    return "main process"


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
    from benchmarks.machine import MachineShare, ProcessTree

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp, MachineShare() as share:
        tmp = Path(tmp)
        make_class(tmp / "class", args.students, args.lean)
        print(f"{args.students} submissions{' (lean)' if args.lean else ''}")
        plain_scores, plain_s = None, None
        if not args.skip_plain:
            with ProcessTree() as tree:
                start = time.perf_counter()
                plain_scores = plain_nbgrader(tmp / "class", tmp / "plain")
                plain_s = time.perf_counter() - start
            print(f"plain sequential nbgrader autograde: {plain_s:.1f} s, "
                  f"{plain_s / args.students:.2f} s per submission, peak memory {memory(tree)}, "
                  f"load average {os.getloadavg()[0]:.2f}")
        jobs = args.jobs or os.cpu_count()
        with ProcessTree() as tree:
            start = time.perf_counter()
            run = ours(tmp / "class", tmp / "ours", args.jobs, warm=not args.cold)
            our_s = time.perf_counter() - start
        our_scores = {r.student_id: r.score for r in run.results}
        print(f"course grade (sandboxed, {'cold' if args.cold else 'warm'} student processes, trusted "
              f"checks, jobs={jobs}, start-up and feedback included): {our_s:.1f} s, "
              f"{our_s / args.students:.2f} s per submission, peak memory {memory(tree)}, "
              f"load average {os.getloadavg()[0]:.2f}")
        print(breakdown(run))
        cpu = tree.cpu_by(role)
        total = sum(cpu.values())
        print(f"  CPU of the whole process tree: {total:.1f} s = {total / args.students:.2f} s per submission; "
              f"the cores were {100 * total / (our_s * (os.cpu_count() or 1)):.0f}% busy with grading")
        for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
            print(f"    {name:<40} {seconds:6.1f} s  {seconds / args.students:5.2f} s per submission")
        if plain_s is not None:
            same = plain_scores == our_scores
            print(f"ratio against plain sequential nbgrader (same run): {plain_s / our_s:.2f}x faster; "
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
