"""The library-call guard, and the door through which the student's code runs.

This module runs INSIDE the sandbox, where the rest of the ``autograder`` package is hidden:
it MUST STAY STANDARD-LIBRARY ONLY (the libraries it guards are imported where named).

:data:`GUARD` wraps the forbidden library routines (:data:`autograder.grade.integrity.FORBIDDEN`,
sent by the grader) in the student's process (those of modules not imported yet when the
student's code imports them); ``with student_code(guarded=True):`` a student
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
        self.waiting: dict[str, set] = {}  # module not imported yet: the names wrapped when it is

    def install(self, names):
        """Wrap ``names`` whose module (or its parent) is imported already; the others when the
        student's code first imports one of those modules (importing them here, scikit-learn
        say, would cost every host a second for what most notebooks never import)."""
        import importlib.util
        import sys

        for name in names:
            parent = name.rpartition(".")[0]
            if name in sys.modules:
                self._install_now(name)
                continue
            if parent in sys.modules:
                try:  # with its package imported, finding a module imports nothing
                    module = importlib.util.find_spec(name) is not None
                except (ImportError, ValueError):
                    module = False
                if not module:  # a routine of a module imported already
                    self._install_now(name)
                    continue
            for trigger in (name, parent) if parent and parent not in sys.modules else (name,):
                self.waiting.setdefault(trigger, set()).add(name)
        if self.waiting and not any(getattr(f, "guard", None) is self for f in sys.meta_path):
            sys.meta_path.insert(0, _WrapOnImport(self))

    def imported(self, module: str) -> None:
        """``module`` has just been imported: wrap what waited for it."""
        for name in sorted(self.waiting.pop(module, ())):
            for trigger in [t for t, names in self.waiting.items() if name in names]:
                self.waiting[trigger].discard(name)
                if not self.waiting[trigger]:
                    del self.waiting[trigger]
            self._install_now(name)

    def _install_now(self, name):
        import importlib

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
            return
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


class _WrapOnImport:
    """A finder first on ``sys.meta_path`` that tells the guard when a module it waits for has
    been imported: it finds the module's spec with the finders after it and has the module's
    loader call :meth:`Guard.imported` once the module has run, before the importer sees it."""

    def __init__(self, guard):
        self.guard = guard

    def find_spec(self, fullname, path=None, target=None):
        import sys

        if fullname not in self.guard.waiting:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run, guard = loader.exec_module, self.guard

        def exec_module(module):
            run(module)
            guard.imported(fullname)

        loader.exec_module = exec_module  # this spec's own loader object
        return spec


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
