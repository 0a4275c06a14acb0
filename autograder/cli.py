"""The ``course`` command for instructors and TAs. Thin: parse, call one function, print.

    course release [ASSIGNMENT ...]              regenerate course/assignments from solutions/
    course grade ASSIGNMENT SUBMISSIONS [--out]  autograde a class, write grades.csv and feedback
    course sample-class ASSIGNMENT DIR           write a generated sample class
    course demo [--out DIR]                      release, then grade a sample class of each assignment
    course slides [--out DIR]                    export the lectures as offline reveal.js slides
    course bundle [--out FILE]                   the zip students receive: course/ and an installer
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

__all__ = ["main"]


def _quiet() -> None:
    warnings.filterwarnings("ignore")  # library deprecations are not the TA's business


def cmd_release(args) -> int:
    from .release import release

    for path in release(args.assignments or None):
        print(f"released {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


def _progress_bar(label: str):
    from tqdm import tqdm

    bar = None

    def update(submission, status, done, total):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, unit="student", file=sys.stderr)
        bar.set_postfix_str(f"{submission.student_id}: {status[:40]}")
        bar.update(1)
        if done == total:
            bar.close()

    return update


def grade(assignment: str, submissions: Path, out: Path, jobs: int | None = None,
          sandbox: bool = True, due: str | None = None, timeout: int | None = None,
          memory_mb: int | None = None, cell_timeout: int | None = None, warm: bool = True) -> int:
    from dataclasses import replace

    from .grading import grade_class
    from .report import format_table, write_grades_csv, write_nbgrader_export
    from .settings import GradingSettings

    settings = replace(GradingSettings(), sandbox=sandbox, warm_kernels=warm, due_date=due, **{
        key: value for key, value in (("submission_timeout", timeout), ("memory_limit_mb", memory_mb),
                                      ("cell_timeout", cell_timeout), ("call_timeout", cell_timeout))
        if value is not None})
    run = grade_class(assignment, submissions, out, settings=settings, jobs=jobs,
                      on_progress=_progress_bar(f"grading {assignment}"))
    csv_path = write_grades_csv(run, Path(out) / "grades.csv")
    write_nbgrader_export(run, Path(out) / "nbgrader_export.csv")
    print(format_table(run))
    print(f"\ngrades:   {csv_path}\nfeedback: {Path(out) / 'feedback'}/<student>/{assignment}.html")
    return 0


def cmd_grade(args) -> int:
    return grade(args.assignment, Path(args.submissions), Path(args.out or f"grades/{args.assignment}"),
                 jobs=args.jobs, sandbox=args.sandbox, due=args.due, timeout=args.timeout,
                 memory_mb=args.memory_mb, cell_timeout=args.cell_timeout, warm=args.warm)


def cmd_sample_class(args) -> int:
    from .samples import make_sample_class

    students = make_sample_class(args.assignment, Path(args.dir))
    print(f"wrote {len(students)} submissions to {args.dir}: {', '.join(students)}")
    return 0


def cmd_demo(args) -> int:
    from .release import assignments, release
    from .samples import make_sample_class

    out = Path(args.out).resolve()
    print("Releasing the assignments from solutions/ with nbgrader ...")
    for path in release():
        print(f"  {path}")
    for assignment in assignments():
        submissions = out / "submissions" / assignment
        students = make_sample_class(assignment, submissions)
        print(f"\nGrading a sample class of {len(students)} for {assignment!r} "
              f"(hidden tests, driven by the hidden reference) ...")
        grade(assignment, submissions, out / assignment)
    return 0


def cmd_slides(args) -> int:
    from .slides import export_slides
    from .settings import COURSE_ROOT

    for path in export_slides(COURSE_ROOT / "course" / "lectures", Path(args.out), quick=args.quick):
        print(f"wrote {path}")
    return 0


def cmd_bundle(args) -> int:
    from .bundle import build_student_bundle

    print(f"wrote {build_student_bundle(Path(args.out))}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="course", description="Training Neural Networks: course tools "
                                "for instructors and TAs.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="regenerate course/assignments/ from solutions/ (nbgrader)")
    r.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    r.set_defaults(func=cmd_release)
    g = sub.add_parser("grade", help="autograde a class of submissions")
    g.add_argument("assignment")
    g.add_argument("submissions", help="folder with one folder per student, or a .zip of it")
    g.add_argument("--out", help="output folder (default grades/ASSIGNMENT)")
    g.add_argument("--jobs", "-j", type=int, default=None,
                   help="submissions graded at once (default: one per CPU core)")
    g.add_argument("--no-sandbox", dest="sandbox", action="store_false",
                   help="run student code without bubblewrap (memory and time limits only)")
    g.add_argument("--cold-kernels", dest="warm", action="store_false",
                   help="start every student kernel from scratch instead of forking it warm")
    g.add_argument("--due", default=None,
                   help="due date, e.g. '2026-11-20 17:00:00 UTC': later timestamp.txt files get "
                        "nbgrader's late penalty")
    g.add_argument("--timeout", type=int, default=None,
                   help="wall-clock seconds per submission (default 1200)")
    g.add_argument("--memory-mb", type=int, default=None,
                   help="memory limit per student process in MB (default 4096)")
    g.add_argument("--cell-timeout", type=int, default=None,
                   help="seconds one cell (and one call inside a hidden check) may run (default 180)")
    g.set_defaults(func=cmd_grade)
    s = sub.add_parser("sample-class", help="write a generated sample class for an assignment")
    s.add_argument("assignment")
    s.add_argument("dir")
    s.set_defaults(func=cmd_sample_class)
    d = sub.add_parser("demo", help="release, then grade a generated sample class of each assignment")
    d.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    d.set_defaults(func=cmd_demo)
    sl = sub.add_parser("slides", help="export the lectures to offline reveal.js slides")
    sl.add_argument("--out", default="slides", help="output folder (default slides)")
    sl.add_argument("--quick", action="store_true", help="heavy cells at their smallest size")
    sl.set_defaults(func=cmd_slides)
    b = sub.add_parser("bundle", help="build the zip students receive (course/ only, installable)")
    b.add_argument("--out", default="dist/student-course.zip", help="zip to write")
    b.set_defaults(func=cmd_bundle)
    return p


def main(argv: list[str] | None = None) -> int:
    _quiet()
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        print(f"course {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
