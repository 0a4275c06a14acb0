"""What the grading workers' fork server imports and warms, once, before it forks any worker.

:mod:`multiprocessing`'s fork server imports the modules it is asked to preload
(:data:`autograder.grade.submission.PRELOAD`); importing this one also runs the first calls that
make torch, NumPy and IPython import more of themselves lazily (torch's meta-tensor
registrations and compiler, autograd's engine, IPython's input transformer, nbformat's schema
validator, the gradebook's table mappings): from tens of milliseconds to a second of CPU each,
which every worker forked afterwards then finds done. Nothing else imports it.
"""
import gc

import nbformat
import nbgrader.api  # noqa: F401 - its tables, mapped below
import sqlalchemy.orm
import torch

from ..checks import calls, trajectory  # noqa: F401 - imported for the workers
from .integrity import library_calls
from ..reference.adam import adam_step
from .verdicts import parse_hidden  # noqa: F401 - imported for the workers


def _warm() -> None:
    torch.set_num_threads(1)
    meta = torch.empty(3, 2, device="meta")
    adam_step(meta, meta, {}, amsgrad=True, weight_decay=0.1)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters())
    torch.nn.functional.mse_loss(model(torch.ones(4, 3)), torch.zeros(4, 2)).backward()
    optimizer.step()
    torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
    library_calls(["%matplotlib inline\nimport torch\ndef f(x):\n    return torch.optim.Adam(x)"], "f")
    # nbformat compiles its schema's validator on the first notebook read, SQLAlchemy maps
    # nbgrader's gradebook tables on the first query: both once, here
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", metadata={"nbgrader": {
        "grade": True, "grade_id": "t", "locked": True, "points": 1, "schema_version": 3, "solution": False}})])
    nbformat.reads(nbformat.writes(nb), as_version=4)
    sqlalchemy.orm.configure_mappers()


_warm()
# what the fork server holds lives as long as it does: out of the collector's sight, so that no
# worker scans it again or copies its pages by touching them (:func:`gc.freeze`)
gc.freeze()
