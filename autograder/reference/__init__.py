"""Reference implementations: the answer key the hidden tests compare with.

Short, readable, one concept per module, each with its formula. They never leave the
TA's side: nothing under ``course/`` imports them and the release never contains them.
Each one is cross-checked in ``tests/`` against ``torch.optim``, ``torch.nn`` or
``sklearn.metrics``.
"""
