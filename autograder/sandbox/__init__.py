"""The sandbox every piece of student code runs in, and the programs that run inside it.

Grader side: :mod:`.policy` (the one sandbox policy: bubblewrap, limits, what stays hidden)
and :mod:`.host` (starting student hosts; one submission's session with one).

Inside the sandbox, where the rest of ``autograder`` is hidden, run :mod:`.host_program`,
:mod:`.student_program`, :mod:`.guard` and :mod:`.protocol` (the one message format, shared
by both sides). This file is visible there too: like them it MUST STAY STANDARD-LIBRARY ONLY,
and it imports nothing.
"""
