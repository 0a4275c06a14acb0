"""Training Neural Networks: the library every lecture and assignment imports.

One concept per module:

- :mod:`course.device`       where training runs (cuda, mps, cpu) and how big heavy cells are
- :mod:`course.data`         the bundled digits as tensors, split and standardized; nothing downloaded
- :mod:`course.images`       generated shapes at any size; MNIST/Fashion-MNIST IDX files from disk
- :mod:`course.models`       the multilayer perceptrons the lectures train
- :mod:`course.training`     the one training loop, :func:`course.training.fit`
- :mod:`course.schedules`    learning-rate schedules on ``torch.optim.lr_scheduler``
- :mod:`course.surfaces`     2-D loss surfaces and optimizer paths
- :mod:`course.minibatch`    the noise of mini-batch gradients; mini-batch SGD paths on least squares
- :mod:`course.momentum`     the classical and Nesterov steps as vectors; momentum's rate on a quadratic
- :mod:`course.augment`      batched flips, crops, colour jitter, affine maps
- :mod:`course.mixing`       Mixup, CutMix, CowMask
- :mod:`course.tta`          test-time augmentation: predictions averaged over flipped and shifted views
- :mod:`course.calibration`  confidence against accuracy: reliability bins, expected calibration error, reliability diagrams
- :mod:`course.losses`       weight penalties; the naive loss of the stability demo
- :mod:`course.weight_decay` weight norms; per-weight decay rates of SGD, Adam (coupled) and AdamW
- :mod:`course.activations`  activations, derivatives, initialization and depth
- :mod:`course.diagnostics`  initial loss, overfit one batch, gradient statistics (per epoch and per step), LR range test, dead channels
- :mod:`course.normalization` BatchNorm over groups of images, LayerNorm/GroupNorm in the CNN, which values share statistics
- :mod:`course.landscape`    the loss and gradient along the gradient (Santurkar et al.'s probe)
- :mod:`course.decision_regions` what a classifier of two features decides everywhere in the plane
- :mod:`course.gradcheck`    numeric gradients for checking a backward pass
- :mod:`course.metric_tables` classifiers given by confusion counts (computed with scikit-learn)
- :mod:`course.confusion`    a confusion matrix accumulated over batches, and the metrics it gives
- :mod:`course.plots`        shared figures and live training curves
- :mod:`course.optimizer_paths` the optimizer explorer's paths: torch.optim on surfaces, mini-batch noise
- :mod:`course.regularization_grid` a grid of runs over dropout and weight decay, with test figures
- :mod:`course.widgets`      the lectures' interactive figures (one module per lecture), drawn in the
                             browser, with a static fallback (``COURSE_STATIC``)

Environment: ``COURSE_DEVICE`` forces a device, ``COURSE_QUICK=1`` gives heavy cells their
smallest size (as ``NBGRADER_EXECUTION`` does), ``COURSE_STATIC=1`` draws static figures
instead of live widgets.
"""
from .device import is_autograding, pick_device, set_seed, workload

__version__ = "0.1.0"
__all__ = ["pick_device", "is_autograding", "set_seed", "workload"]
