"""What a person does in JupyterLab, as Playwright calls: open a notebook, Run All, read outputs.

Everything goes through the user interface (menus, keyboard, the cell editor): the tests
see what a student sees, not what the kernel returns.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # playwright is imported by the fixtures, once Chromium is known to be there
    from playwright.sync_api import Page

#: the JavaScript that describes every cell of the open notebook
_CELLS_JS = """
() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell'))
  .map((cell, index) => ({
    index,
    kind: cell.classList.contains('jp-CodeCell') ? 'code'
        : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
    prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
    source: (cell.querySelector('.cm-content') || {}).innerText || '',
    outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(out => ({
      mime: out.getAttribute('data-mime-type') || '',
      text: (out.innerText || '').slice(0, 4000),
      images: out.querySelectorAll('img').length,
    })),
  }))
"""

#: what a cell's output shows when the code raised: the traceback header IPython prints
_ERROR_MARKS = ("Traceback (most recent call last)",)


def open_notebook(page: Page, url: str, timeout: float = 90.0) -> None:
    """Open the notebook at ``url`` and wait until its kernel is idle."""
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout * 1000)
    wait_kernel_idle(page, timeout)


#: true when the status bar says the notebook's kernel is connected and idle
_KERNEL_IDLE_JS = """
() => Array.from(document.querySelectorAll('.jp-StatusBar-Item')).some(item => {
  const text = item.innerText.trim();
  return / \\| Idle$/.test(text) && !text.startsWith('No Kernel');
}) && !!document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
"""


#: true while a cell of the open notebook is queued or running (its prompt shows ``[*]``)
_QUEUED_JS = """
() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt'))
  .some(prompt => prompt.textContent.includes('*'))
"""


def wait_kernel_idle(page: Page, timeout: float = 90.0) -> None:
    """Wait until the status bar shows a connected, idle kernel (``Python 3 (ipykernel) | Idle``).

    The toolbar's execution indicator alone says idle before the kernel has even started.
    """
    page.wait_for_function(_KERNEL_IDLE_JS, timeout=timeout * 1000, polling=100)


def run_menu(page: Page, command: str) -> None:
    """Click Run in the menu bar, then the item of ``command`` (for example ``runmenu:run-all``)."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(f".lm-Menu li[data-command='{command}']").click()


def cells(page: Page) -> list[dict]:
    """Every cell of the open notebook: kind, prompt (``[3]:``, ``[*]:``), source, outputs."""
    return page.evaluate(_CELLS_JS)


def wait_until_done(page: Page, timeout: float = 240.0, settle: float = 0.5) -> list[dict]:
    """Wait until no cell is queued or running (``[*]``) and the kernel is idle; return the cells."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        busy = page.evaluate(_QUEUED_JS) or not page.evaluate(_KERNEL_IDLE_JS)
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= settle:
            return cells(page)
        time.sleep(0.2)
    raise TimeoutError(f"cells still running after {timeout:.0f} s")


def run_all(page: Page, timeout: float = 240.0) -> list[dict]:
    """Run > Run All Cells, as a student would; returns the cells once the kernel is done."""
    run_menu(page, "runmenu:run-all")
    page.wait_for_timeout(200)  # the first cells turn to [*] at once
    return wait_until_done(page, timeout)


def is_error(output: dict) -> bool:
    return output["mime"] == "application/vnd.jupyter.stderr" and any(m in output["text"] for m in _ERROR_MARKS)


def errors(all_cells: list[dict]) -> list[str]:
    """One line per cell that shows an error: its index and the traceback's last line."""
    found = []
    for cell in all_cells:
        for output in cell["outputs"]:
            if is_error(output):
                lines = [line for line in output["text"].splitlines() if line.strip()]
                found.append(f"cell {cell['index']}: {lines[-1] if lines else '(empty traceback)'}")
    return found


def not_executed(all_cells: list[dict]) -> list[int]:
    """Indices of code cells that have no execution count (Run All stops at the first error)."""
    return [c["index"] for c in all_cells
            if c["kind"] == "code" and c["source"].strip() and not any(ch.isdigit() for ch in c["prompt"])]


def cell_locator(page: Page, index: int):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)


def set_cell_source(page: Page, index: int, text: str) -> None:
    """Replace the text of cell ``index`` as a student would: click, select all, type (paste-like)."""
    editor = cell_locator(page, index).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)  # one insertion: no auto-indent or bracket closing on the way
    page.keyboard.press("Escape")    # back to command mode


def set_markdown_source(page: Page, index: int, text: str) -> None:
    """Write ``text`` into the markdown cell ``index`` as a student would: double-click the
    rendered cell to edit it, replace its text, and render it again (Shift+Enter)."""
    cell = cell_locator(page, index)
    cell.scroll_into_view_if_needed()
    cell.dblclick()
    editor = cell.locator(".cm-content")
    editor.wait_for(state="visible")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.keyboard.press("Shift+Enter")
