"""The ``course`` command for instructors and TAs. Thin: parse, call one function, print.

    course release [ASSIGNMENT ...]              regenerate course/assignments from solutions/
    course grade ASSIGNMENT SUBMISSIONS [--out]  autograde a class, write grades.csv and feedback
    course export OUT                            write the CSVs again from the gradebook (after formgrader)
    course sample-class ASSIGNMENT DIR           write a generated sample class
    course demo [--out DIR]                      release, then grade a sample class of each assignment
    course render [LECTURE ...] [--size SIZE]    execute the lectures, save their readable renderings
    course slides [--out DIR]                    the lectures as offline reveal.js decks and HTML pages
    course bundle [--out FILE]                   the zip students receive: course/ and an installer
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .grade.layouts import LAYOUTS

__all__ = ["main"]


def _quiet() -> None:
    warnings.filterwarnings("ignore")  # library deprecations are not the TA's business


EXIT_CODES = """exit status:
  0  every submission was graded
  1  some could not be (their rows in grades.csv say why; the CSV is still complete)
  2  usage or fatal error (no class folder, unreadable zip or roster, unknown assignment)"""

GRADE_EXAMPLES = """examples:
  course grade optimizers submissions/                     one folder per student
  course grade optimizers canvas-download.zip --roster gradebook-export.csv --due '2026-11-20 17:00 UTC'
  course grade optimizers course/ --layout nbgrader        nbgrader's submitted/<student>/<assignment>/
  course grade optimizers bb.zip --timezone America/New_York --due '2026-11-20 17:00 America/New_York'
  course grade optimizers dump/ --pattern '.*_(?P<student_id>\\w+)_(?P<file_id>optimizers)'
  course grade optimizers canvas.zip --out grades/optimizers --student doejane   regrade one, merge"""


def _settings():
    from .settings import COURSE_ROOT, instructor_settings

    return instructor_settings(COURSE_ROOT)


def _shown(path: Path) -> Path:
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def cmd_release(args) -> int:
    from .publish.cell_times import measure_assignments
    from .publish.release import assignments, release
    from .settings import COURSE_ROOT

    settings = _settings()
    for path in release(args.assignments or None, settings=settings):
        print(f"released {_shown(path)}")
    for path in measure_assignments(args.assignments or assignments(COURSE_ROOT, settings), COURSE_ROOT, settings):
        print(f"measured each cell's time: {_shown(path)}")
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


def write_outputs(run, out: Path, canvas_column: str | None = None) -> None:
    """Every file a grading run leaves in ``out``, from ``run`` (the whole class)."""
    from .grade.class_report import write_items_csv, write_report_html
    from .grade.lms_export import write_canvas_comments, write_canvas_csv
    from .grade.report import write_grades_csv, write_nbgrader_export, write_refused_csv
    from .grade.results import save_run

    out.mkdir(parents=True, exist_ok=True)
    save_run(run, out)
    write_grades_csv(run, out / "grades.csv")
    write_refused_csv(run, out / "refused.csv")
    write_nbgrader_export(run, out / "nbgrader_export.csv")
    write_items_csv(run, out / "items.csv")
    write_report_html(run, out / "report.html")
    write_canvas_csv(run, out / "canvas_grades.csv", canvas_column)
    write_canvas_comments(run, out / "canvas_comments.csv")


def exit_status(run) -> int:
    """0 when every submission was graded, 1 when some could not be."""
    return int(any(not r.graded and not r.absent for r in run.results))


def grade(assignment: str, submissions: Path, out: Path, jobs: int | None = None,
          sandbox: bool = True, due: str | None = None, timeout: int | None = None,
          memory_mb: int | None = None, cell_timeout: int | None = None, call_timeout: int | None = None,
          warm: bool = True, layout: str | None = None, pattern: str | None = None,
          roster: Path | None = None, roster_id: str | None = None, timezone: str | None = None,
          students: list[str] | None = None, canvas_column: str | None = None) -> int:
    from dataclasses import replace

    from .grade.class_run import grade_class
    from .grade.report import format_table
    from .grade.results import load_run, merge_runs

    settings = replace(_settings(), sandbox=sandbox, warm_kernels=warm, **{
        key: value for key, value in (("submission_timeout", timeout), ("memory_limit_mb", memory_mb),
                                      ("cell_timeout", cell_timeout), ("call_timeout", call_timeout),
                                      ("due_date", due)) if value is not None})
    zone = _zone(timezone)
    class_roster = None
    if roster is not None:
        from .grade.roster import read_roster

        class_roster = read_roster(roster, roster_id)
    out = Path(out)
    earlier = load_run(out) if students else None
    run = grade_class(assignment, submissions, out, settings=settings, jobs=jobs, layout=layout,
                      pattern=pattern, roster=class_roster, zone=zone, only=set(students or ()) or None,
                      on_progress=_progress_bar(f"grading {assignment}"))
    if students:
        print(f"regraded {', '.join(sorted(students))}; the other rows are as they were"
              if earlier else "no earlier grades in the output folder: only these students are listed")
        run = merge_runs(earlier, run)
    write_outputs(run, out, canvas_column)
    print(f"layout:   {run.layout} ({'detected' if layout is None else 'as given'})\n"
          f"grades:   {out / 'grades.csv'}\nreport:   {out / 'report.html'} and items.csv\n"
          f"canvas:   {out / 'canvas_grades.csv'} and canvas_comments.csv\n"
          f"feedback: {out / 'feedback'}/<student>/{assignment}.html\n")
    print(format_table(run))  # ends with the three most common mistakes
    return exit_status(run)


def _zone(name: str | None):
    from datetime import timezone
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use a name such as Europe/Berlin)") from exc


def cmd_grade(args) -> int:
    return grade(args.assignment, Path(args.submissions), Path(args.out or f"grades/{args.assignment}"),
                 jobs=args.jobs, sandbox=args.sandbox, due=args.due, timeout=args.timeout,
                 memory_mb=args.memory_mb, cell_timeout=args.cell_timeout, call_timeout=args.call_timeout,
                 warm=args.warm, layout=args.layout, pattern=args.pattern,
                 roster=Path(args.roster) if args.roster else None, roster_id=args.roster_id,
                 timezone=args.timezone, students=args.student, canvas_column=args.canvas_column)


def cmd_export(args) -> int:
    from .grade.report import format_table
    from .grade.results import load_run, rescore

    out = Path(args.out)
    run = load_run(out)
    if run is None:
        raise FileNotFoundError(f"{out} holds no grading run (no results.json): run `course grade` first")
    run = rescore(run, _settings())
    write_outputs(run, out, args.canvas_column)
    print(format_table(run))
    return exit_status(run)


def cmd_sample_class(args) -> int:
    from .publish.samples import make_sample_class

    students = make_sample_class(args.assignment, Path(args.dir))
    print(f"wrote {len(students)} submissions to {args.dir}: {', '.join(students)}")
    return 0


def cmd_demo(args) -> int:
    from .publish.release import assignments, release
    from .publish.samples import make_sample_class

    out = Path(args.out).resolve()
    print("Releasing the assignments from solutions/ with nbgrader ...")
    for path in release():
        print(f"  {path}")
    for assignment in assignments():
        submissions = out / "submissions" / assignment
        students = make_sample_class(assignment, submissions)
        print(f"\nGrading a sample class of {len(students)} for {assignment!r} "
              f"(hidden tests, driven by the hidden reference) ...")
        grade(assignment, submissions, out / assignment)  # the sample class holds ungradable ones
    return 0


def cmd_render(args) -> int:
    from .publish.render import render_lectures
    from .settings import COURSE_ROOT

    def done(path, seconds):
        print(f"rendered {path} ({seconds:.0f} s)", flush=True)

    render_lectures(COURSE_ROOT / "course" / "lectures", size=args.size, names=args.lectures or None, on_done=done)
    return 0


def cmd_slides(args) -> int:
    from .settings import COURSE_ROOT
    from .publish.slides import export_slides

    for path in export_slides(COURSE_ROOT / "course" / "lectures", Path(args.out), quick=args.quick):
        print(f"wrote {path}")
    return 0


def cmd_bundle(args) -> int:
    from .publish.bundle import build_student_bundle

    print(f"wrote {build_student_bundle(Path(args.out))}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="course", description="Training Neural Networks: course tools "
                                "for instructors and TAs.", epilog=EXIT_CODES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="regenerate course/assignments/ from solutions/ (nbgrader)")
    r.add_argument("assignments", nargs="*", help="assignment names, folders of solutions/ (default: all)")
    r.set_defaults(func=cmd_release)
    defaults = _settings()
    g = sub.add_parser("grade", help="autograde a class of submissions", epilog=f"{GRADE_EXAMPLES}\n\n{EXIT_CODES}",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Autograde a class: every student's notebook in a sandbox, hidden "
                                   "checks judged outside it; writes grades.csv, feedback, report.html, "
                                   "items.csv, Canvas CSVs and nbgrader's export under --out.")
    g.add_argument("assignment", help="the assignment's name: a folder of solutions/ "
                                      f"({', '.join(_assignment_names())})")
    g.add_argument("submissions", help="the class: a folder or a .zip, in any layout of --layout "
                                       "(detected when not given)")
    g.add_argument("--out", help="output folder (default grades/ASSIGNMENT)")
    g.add_argument("--layout", choices=LAYOUTS, default=None,
                   help="how the class folder is organised (default: detected): folder = one folder per "
                        "student; nbgrader = submitted/<student>/<assignment>/; canvas, moodle, blackboard "
                        "= that LMS's bulk download; pattern = --pattern")
    g.add_argument("--pattern", metavar="REGEX", help="for other namings: a regular expression matched "
                   "from the start of each file's path in the class folder, with the named groups "
                   "student_id and file_id and optionally timestamp (nbgrader zip_collect's form)")
    g.add_argument("--roster", metavar="CSV", help="class list mapping LMS ids or names to course ids "
                   "(a Canvas gradebook export, a Moodle grading worksheet, or student_id,lms_id,name "
                   "columns); roster students with no submission get a row")
    g.add_argument("--roster-id", metavar="COLUMN", help="the roster's column that holds the course id")
    g.add_argument("--student", action="append", metavar="ID",
                   help="regrade only this student (repeatable) and merge into the grades in --out")
    g.add_argument("--timezone", metavar="ZONE", help="zone of LMS times written without one "
                   "(Blackboard's names, zip entry times; default UTC)")
    g.add_argument("--canvas-column", metavar="NAME", help="the assignment's column in canvas_grades.csv, "
                   "'Name (Canvas assignment id)' to update an existing one (default: ASSIGNMENT)")
    g.add_argument("--jobs", "-j", type=int, default=None,
                   help="submissions graded at once (default: one per CPU core)")
    g.add_argument("--no-sandbox", dest="sandbox", action="store_false",
                   help="run student code without bubblewrap (memory and time limits only)")
    g.add_argument("--cold-kernels", dest="warm", action="store_false",
                   help="start every student kernel from scratch instead of forking it warm")
    g.add_argument("--due", default=defaults.due_date,
                   help="due date, e.g. '2026-11-20 17:00:00 UTC': later submissions get nbgrader's late "
                        f"penalty ({defaults.late_penalty!r}: LateSubmissionPlugin.penalty_method)")
    g.add_argument("--timeout", type=int, default=None,
                   help=f"wall-clock seconds per submission (default {defaults.submission_timeout})")
    g.add_argument("--memory-mb", type=int, default=None,
                   help=f"memory limit per student process in MB (default {defaults.memory_limit_mb})")
    g.add_argument("--cell-timeout", type=int, default=None,
                   help=f"seconds one notebook cell may run (default {defaults.cell_timeout}: "
                        "Execute.timeout, from nbgrader_config.py when set there)")
    g.add_argument("--call-timeout", type=int, default=None,
                   help=f"seconds one call of a student's function may take inside a hidden check "
                        f"(default {defaults.call_timeout})")
    g.set_defaults(func=cmd_grade)
    e = sub.add_parser("export", help="write the CSVs again from the gradebook (after changes in formgrader)",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("out", help="a `course grade` output folder, e.g. grades/optimizers")
    e.add_argument("--canvas-column", metavar="NAME", help="as for `course grade`")
    e.set_defaults(func=cmd_export)
    s = sub.add_parser("sample-class", help="write a generated sample class for an assignment")
    s.add_argument("assignment", help="the assignment's name, e.g. optimizers")
    s.add_argument("dir", help="folder to write the class into, one folder per student")
    s.set_defaults(func=cmd_sample_class)
    d = sub.add_parser("demo", help="release, then grade a generated sample class of each assignment")
    d.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    d.set_defaults(func=cmd_demo)
    rn = sub.add_parser("render", help="execute the lectures and save their readable renderings "
                        "(course/lectures/rendered/)")
    rn.add_argument("lectures", nargs="*", metavar="LECTURE", help="lectures to render, such as 01_metrics "
                    "(default: all)")
    rn.add_argument("--size", choices=("full", "cpu", "quick"), default=None,
                    help="the size of the heavy cells (default: full on a GPU, cpu on a CPU)")
    rn.set_defaults(func=cmd_render)
    sl = sub.add_parser("slides", help="export the lectures to offline reveal.js decks and HTML pages "
                        "(from their renderings when those are current)")
    sl.add_argument("--out", default="slides", help="output folder (default slides)")
    sl.add_argument("--quick", action="store_true", help="heavy cells at their smallest size")
    sl.set_defaults(func=cmd_slides)
    b = sub.add_parser("bundle", help="build the zip students receive (course/ only, installable)")
    b.add_argument("--out", default="dist/student-course.zip", help="zip to write")
    b.set_defaults(func=cmd_bundle)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("training-neural-networks")
    except PackageNotFoundError:
        return "unknown"


def _assignment_names() -> list[str]:
    from .publish.release import assignments

    try:
        return assignments()
    except OSError:
        return []


def main(argv: list[str] | None = None) -> int:
    _quiet()
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"course {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
