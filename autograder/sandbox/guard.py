"""The library-call guard, and the door through which the student's code runs.

This module runs INSIDE the sandbox, where the rest of the ``autograder`` package is hidden:
it MUST STAY STANDARD-LIBRARY ONLY (the libraries it guards are imported where named).

:data:`GUARD` wraps the forbidden library routines (:data:`autograder.grade.integrity.FORBIDDEN`,
sent by the grader) in the student's process; ``with student_code(guarded=True):`` a student
call runs with SIGINT open and the guard armed, and :attr:`Guard.seen` says which forbidden
routines that call reached.
"""
import signal
import time

__all__ = ["Guard", "GUARD", "student_code"]


class Guard:
    """Records the forbidden library routines called while a student call runs.

    ``names`` are dotted names (the grader's one list, :data:`autograder.grade.integrity.FORBIDDEN`):
    a function or class is wrapped where it lives; a module stands for every public routine
    defined under it."""

    def __init__(self):
        self.active, self.seen, self._done, self.depth = False, set(), set(), 0

    def install(self, names):
        import importlib

        for name in names:
            parts = name.split(".")
            for cut in range(len(parts), 0, -1):
                try:
                    target = importlib.import_module(".".join(parts[:cut]))
                except Exception:  # noqa: BLE001 - not a module (or not installed): go up
                    continue
                for attr in parts[cut:]:
                    target = getattr(target, attr, None)
                break
            else:
                continue
            if type(target).__name__ == "module":
                for attr in getattr(target, "__all__", None) or dir(target):
                    obj = getattr(target, attr, None)
                    if not attr.startswith("_") and callable(obj) and \
                            str(getattr(obj, "__module__", "")).startswith(name):
                        self._wrap(target, attr, obj, f"{name}.{attr}")
            elif callable(target):
                owner = importlib.import_module(".".join(parts[:cut])) if cut < len(parts) else None
                self._wrap(owner, parts[-1], target, name)

    def _wrap(self, owner, attr, obj, label):
        if id(obj) in self._done:
            return
        self._done.add(id(obj))
        if isinstance(obj, type):
            step = obj.__dict__.get("step")
            try:
                obj.__init__ = self._guarded(obj.__init__, label)
                if callable(step):
                    obj.step = self._guarded(step, label)
            except TypeError:  # a built-in (immutable) type: its constructor stays as it is
                pass
            return
        guarded = self._guarded(obj, label)
        guarded.__name__ = getattr(obj, "__name__", attr)
        guarded.__doc__ = getattr(obj, "__doc__", None)
        if owner is not None:
            setattr(owner, attr, guarded)

    def _guarded(self, fn, label):
        """``fn``, recording ``label`` when the student's code calls it (not the library itself)."""
        guard = self

        def guarded(*args, **kwargs):
            if guard.active and not guard.depth:
                guard.seen.add(label)
            guard.depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                guard.depth -= 1
        return guarded


GUARD = Guard()


class student_code:
    """``with student_code():`` the student's code runs: SIGINT open, the guard armed."""

    def __init__(self, guarded=False):
        self.guarded = guarded

    def __enter__(self):
        if signal.SIGINT in signal.sigpending():  # an interrupt that came too late: drop it
            signal.sigwait({signal.SIGINT})
        GUARD.active = self.guarded
        self.began = time.perf_counter()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        return self

    def __exit__(self, *exc):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        self.seconds = time.perf_counter() - self.began
        GUARD.active = False
