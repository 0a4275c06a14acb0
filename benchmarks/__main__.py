"""Run every benchmark: ``.venv/bin/python -m benchmarks`` (``make bench``).

Each module of this package with a ``main()`` is one benchmark; they run in name order,
each with its default arguments, and print their own figures.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import benchmarks


def main() -> int:
    status = 0
    for module in sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)):
        if module.startswith("_"):
            continue
        benchmark = importlib.import_module(f"benchmarks.{module}")
        if callable(getattr(benchmark, "main", None)):
            print(f"\n######## benchmarks.{module} ########", flush=True)
            takes_argv = bool(inspect.signature(benchmark.main).parameters)
            status |= (benchmark.main([]) if takes_argv else benchmark.main()) or 0
    return status


if __name__ == "__main__":
    raise SystemExit(main())
