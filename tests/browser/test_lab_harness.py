"""Does the harness see what a person sees? A notebook with a known error, run in JupyterLab."""
from __future__ import annotations

import nbformat
import pytest

import lab_page

pytestmark = pytest.mark.browser


def test_run_all_reports_the_error_and_stops(lab, page, screenshot):
    """Does Run All show stdout, keep stderr warnings apart from errors, and stop at the error?"""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Harness check\n$\\alpha^2$"),
        nbformat.v4.new_code_cell("print('hello from the kernel')"),
        nbformat.v4.new_code_cell("import sys\nprint('only a warning', file=sys.stderr)"),
        nbformat.v4.new_code_cell("1 / 0"),
        nbformat.v4.new_code_cell("print('never runs')"),
    ]
    (lab.root / "scratch").mkdir(exist_ok=True)
    nbformat.write(nb, lab.root / "scratch" / "harness.ipynb")

    lab_page.open_notebook(page, lab.notebook_url("scratch/harness.ipynb"))
    cells = lab_page.run_all(page, timeout=60)
    screenshot(page, "harness-run-all")

    assert cells[1]["outputs"][0]["text"].strip() == "hello from the kernel"
    assert lab_page.errors(cells) == ["cell 3: ZeroDivisionError: division by zero"]
    assert lab_page.not_executed(cells) == [4]
