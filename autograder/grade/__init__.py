"""Grading a class, in the order it happens.

- taking in the class: :mod:`.intake` (with :mod:`.layouts`, :mod:`.unzip`, :mod:`.roster`),
  :mod:`.submissions` (which notebook is graded), :mod:`.recovery` and :mod:`.repair`
  (notebooks whose nbgrader metadata was lost, or whose cells nbgrader leaves broken);
- the class run: :mod:`.class_run` (parallel jobs, one gradebook writer, late penalties);
- one submission: :mod:`.submission` (a worker: sanitize, run the cells in the student's
  process with :mod:`.notebook_run`, judge the hidden checks), :mod:`.integrity` (the
  library-call rule), :mod:`.stand_ins` (what a check is given for the student's function),
  :mod:`.verdicts` (hidden blocks, judged outside the student's process), :mod:`.outcome`
  (the typed result: ``Outcome``, ``Status``, ``Incident``), :mod:`.preload`;
- what a run leaves: :mod:`.results`, :mod:`.report`, :mod:`.class_report`,
  :mod:`.lms_export`, :mod:`.gradebook`, :mod:`.feedback`, :mod:`.formgrader`.
"""
