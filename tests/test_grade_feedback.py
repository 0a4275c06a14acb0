"""Tests for autograder.grade.feedback's exporter: nbconvert's pages, templates compiled once.

That the class run's pages are byte for byte nbgrader's own is tested on a graded class in
tests/test_cli.py; here, the exporter alone against nbconvert's."""
from __future__ import annotations

import jinja2
import nbformat
from nbconvert.exporters import HTMLExporter

from autograder.grade.feedback import FeedbackExporter


def _notebook():
    cells = [nbformat.v4.new_markdown_cell("# Adam\nThe update $\\theta_t = \\theta_{t-1} - \\eta\\, m_t$."),
             nbformat.v4.new_code_cell("def adam_step(p, g, state):\n    return p - 0.1 * g",
                                       outputs=[nbformat.v4.new_output("stream", name="stdout", text="ok\n")])]
    return nbformat.v4.new_notebook(cells=cells)


def test_pages_are_nbconverts_and_templates_are_compiled_once(monkeypatch):
    """Is each page the one nbconvert's HTMLExporter makes, and does a second exporter (nbgrader
    makes one per student) reuse the compiled templates instead of compiling them again?"""
    compiled = []
    original = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    nb = _notebook()
    expected, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    plain = len(compiled)
    first, _ = FeedbackExporter(template_name="classic").from_notebook_node(nb)
    after_first = len(compiled)
    second, _ = FeedbackExporter(template_name="classic").from_notebook_node(nb)
    assert first == expected and second == expected
    assert plain > 0
    assert len(compiled) == after_first  # the second exporter compiled nothing


def test_a_changed_template_is_compiled_again(tmp_path):
    """Does a template whose source changed (same name) give the new page, not the kept one?"""
    folder = tmp_path / "templates" / "mine"
    folder.mkdir(parents=True)
    (folder / "conf.json").write_text('{"base_template": "classic", "mimetypes": {"text/html": true}}')
    (folder / "index.html.j2").write_text("first {{ nb.cells | length }}")
    exporter = FeedbackExporter(template_name="mine", extra_template_basedirs=[str(tmp_path / "templates")])
    assert exporter.from_notebook_node(_notebook())[0].startswith("first 2")
    (folder / "index.html.j2").write_text("second {{ nb.cells | length }}")
    exporter = FeedbackExporter(template_name="mine", extra_template_basedirs=[str(tmp_path / "templates")])
    assert exporter.from_notebook_node(_notebook())[0].startswith("second 2")
