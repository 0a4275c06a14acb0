"""The `course` command's conventions: --version, help with examples and exit statuses,
defaults in the help that are the real ones, and usage errors as exit status 2."""
import re
import subprocess
import sys

import pytest

from autograder.cli import main, parser
from autograder.settings import GradingSettings


def help_text(*words):
    return subprocess.run([sys.executable, "-m", "autograder.cli", *words, "--help"], capture_output=True,
                          text=True, timeout=120, env={"COLUMNS": "200", "PATH": ""}).stdout


def test_version(capsys):
    """Does `course --version` print the installed package's version?"""
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"course {version('training-neural-networks')}"


def test_grade_help_documents_exit_statuses_examples_and_true_defaults():
    """Does `course grade --help` give its exit statuses, examples, help for both positional
    arguments, and the defaults grading really uses (a cell and a call inside a check apart)?"""
    text = help_text("grade")
    for code in ("0  every submission was graded", "1  some could not be", "2  usage or fatal error"):
        assert code in text
    assert "examples:" in text and "--layout nbgrader" in text
    settings = GradingSettings()
    defaults = {m[0]: int(m[1]) for m in re.findall(r"(--[\w-]+) \S+\s+[^\n]*?\(default (\d+)", text)}
    assert defaults["--cell-timeout"] == settings.cell_timeout
    assert defaults["--call-timeout"] == settings.call_timeout
    assert defaults["--timeout"] == settings.submission_timeout
    assert defaults["--memory-mb"] == settings.memory_limit_mb
    grade = next(a for a in parser()._subparsers._group_actions[0].choices["grade"]._actions
                 if a.dest == "submissions")
    assert grade.help and all(a.help for a in parser()._subparsers._group_actions[0].choices["grade"]._actions)


@pytest.mark.parametrize("args,words", [
    (["--pattern", "no-groups-here"], "named groups"),
    (["--pattern", "(unclosed"], "not a valid regular expression"),
    (["--layout", "pattern"], "needs --pattern"),
    (["--roster", "/nonexistent/roster.csv"], "cannot read the roster"),
    (["--timezone", "Mars/Olympus"], "unknown time zone"),
])
def test_usage_errors_exit_2_with_the_reason(tmp_path, capsys, args, words):
    """Does a bad option give exit status 2 and a one-line reason, before any grading?"""
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "optimizers.ipynb").write_text("{}")
    assert main(["grade", "optimizers", str(tmp_path / "class"), "--out", str(tmp_path / "out"), *args]) == 2
    assert words in capsys.readouterr().err
