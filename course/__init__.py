"""Training Neural Networks: the library every lecture and assignment imports.

One concept per module:

- :mod:`course.device`   where training runs (cuda, mps, cpu) and how big heavy cells are
- :mod:`course.data`     the bundled digits and other data, as tensors; nothing downloaded
- :mod:`course.training` the one training loop, :func:`course.training.fit`
- :mod:`course.surfaces` 2-D loss surfaces and optimizer paths
- :mod:`course.plots`    shared figures
"""
from .device import is_autograding, pick_device, set_seed, workload

__version__ = "0.1.0"
__all__ = ["pick_device", "is_autograding", "set_seed", "workload"]
