"""Comparing training runs over several seeds, and the claims a lecture makes about them.

A lecture that says "X helps" runs X and its alternative over a few seeds, shows the mean and
the seed-to-seed spread of each, and states the claim through :meth:`Comparison.claim`, which
formats the numbers from the results (no number is typed into the text) and says plainly when
this run does not show the effect::

    def train(seed, transform=None):
        ...                                  # the lecture's own code: model, optimizer, fit
        return {"val_acc": ..., "test_acc": ..., "test_loss": ...}

    results = compare({"no augmentation": train, "flip + crop": partial(train, transform=aug)},
                      seeds=(0, 1, 2), title="augmentation, 500 training images")
    results.table("test_acc", "test_loss")
    results.claim("flip + crop", "no augmentation", "test_acc")

A claim holds when, over at least three seeds, the difference of the means is larger than the
seed-to-seed **range** (largest minus smallest value over the seeds) of either side: with three
seeds that is a margin of about 1.7 standard deviations of a single run. Choose on validation, report on test:
:meth:`Comparison.select` picks by a validation metric.

With ``COURSE_RECORD=path`` every comparison and every claim is appended to that file as one
JSON line (the per-seed values, the size and the device): the tests execute a lecture that way
and check each claim from the raw numbers.
"""
from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

__all__ = ["compare", "Comparison", "Claim", "METRIC_NAMES", "MIN_SEEDS"]

#: a claim is checked over at least this many seeds
MIN_SEEDS = 3

METRIC_NAMES = {
    "train_acc": "training accuracy", "val_acc": "validation accuracy", "test_acc": "test accuracy",
    "train_loss": "training loss", "val_loss": "validation loss", "test_loss": "test loss",
    "ece": "calibration error (ECE)", "time": "seconds",
}
# metrics where smaller is better
_LOWER_IS_BETTER = ("loss", "ece", "error", "time")


def _seeds(count: int) -> str:
    return f"{count} seed" if count == 1 else f"{count} seeds"


def _lower_is_better(metric: str) -> bool:
    return any(word in metric for word in _LOWER_IS_BETTER)


def _is_fraction(metric: str) -> bool:
    return metric.endswith("acc") or metric.endswith("accuracy")


def _format(metric: str, value: float) -> str:
    return f"{value:.3f}"


def _format_gap(metric: str, gap: float) -> str:
    return f"{100 * gap:.1f} points" if _is_fraction(metric) else f"{gap:.3f}"


@dataclass(frozen=True)
class Claim:
    """"``better`` beats ``worse`` on ``metric``", checked against the seed-to-seed spread."""

    better: str
    worse: str
    metric: str
    margin: float          # mean(better) - mean(worse), signed so that positive means better
    spread: float          # the larger seed-to-seed range (max - min) of the two
    num_seeds: int
    means: tuple[float, float]

    @property
    def holds(self) -> bool:
        """The margin beats the seed-to-seed range, measured over at least :data:`MIN_SEEDS` seeds."""
        return self.num_seeds >= MIN_SEEDS and self.margin > self.spread

    def __str__(self) -> str:
        name = METRIC_NAMES.get(self.metric, self.metric)
        a, b = (_format(self.metric, m) for m in self.means)
        numbers = (f"{a} against {b}, mean of {_seeds(self.num_seeds)}; margin "
                   f"{_format_gap(self.metric, self.margin)}, seed-to-seed range up to "
                   f"{_format_gap(self.metric, self.spread)}")
        if self.holds:
            return f"{self.better} beats {self.worse} on {name}: {numbers}."
        if self.num_seeds < MIN_SEEDS:
            return (f"NOT SHOWN by this run: {_seeds(self.num_seeds)} cannot separate a difference from "
                    f"seed-to-seed noise ({numbers}); a claim needs {MIN_SEEDS}.")
        if self.margin > 0:
            return (f"NOT SHOWN by this run: {self.better} is ahead of {self.worse} on {name}, but by less "
                    f"than the seed-to-seed range ({numbers}). At this size the difference is noise.")
        return f"NOT SHOWN by this run: {self.better} does not beat {self.worse} on {name} ({numbers})."

    def _repr_markdown_(self) -> str:
        return ("✔ " if self.holds else "✘ ") + str(self)


@dataclass
class Comparison:
    """Per-seed results of several configurations: ``values[name][metric]`` is a list over ``seeds``."""

    values: dict[str, dict[str, list[float]]]
    seeds: tuple[int, ...]
    title: str = ""
    claims: list[Claim] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.values)

    def mean(self, name: str, metric: str) -> float:
        return statistics.fmean(self.values[name][metric])

    def spread(self, name: str, metric: str) -> float:
        """The seed-to-seed range of one configuration: largest minus smallest value."""
        values = self.values[name][metric]
        return max(values) - min(values)

    def table(self, *metrics: str, show: bool = True) -> str:
        """Mean ± half the range of each metric per configuration (and the number of seeds)."""
        metrics = metrics or tuple(next(iter(self.values.values())))
        width = max(len(n) for n in self.names) + 2
        head = f"{'':{width}s}" + "".join(f"{METRIC_NAMES.get(m, m):>26s}" for m in metrics)
        lines = [f"{self.title} ({_seeds(len(self.seeds))}: {', '.join(map(str, self.seeds))}; mean ± half the "
                 f"range)" if self.title else f"{_seeds(len(self.seeds))}; mean ± half the range", head]
        for name in self.names:
            cells = "".join(f"{self.mean(name, m):>18.3f} ± {self.spread(name, m) / 2:.3f}" for m in metrics)
            lines.append(f"{name:{width}s}{cells}")
        text = "\n".join(lines)
        if show:
            print(text)
        return text

    def claim(self, better: str, worse: str, metric: str = "test_acc", show: bool = True) -> Claim:
        """Check "``better`` beats ``worse`` on ``metric``" (higher accuracy, lower loss) and say so."""
        sign = -1.0 if _lower_is_better(metric) else 1.0
        mean_better, mean_worse = self.mean(better, metric), self.mean(worse, metric)
        claim = Claim(better, worse, metric, sign * (mean_better - mean_worse),
                      max(self.spread(better, metric), self.spread(worse, metric)), len(self.seeds),
                      (mean_better, mean_worse))
        self.claims.append(claim)
        _record({"kind": "claim", "title": self.title, "better": better, "worse": worse, "metric": metric,
                 "holds": claim.holds, "values": {better: self.values[better][metric],
                                                  worse: self.values[worse][metric]}})
        if show:
            print(("✔ " if claim.holds else "✘ ") + str(claim))
        return claim

    def select(self, by: str = "val_acc") -> str:
        """The configuration with the best mean ``by`` (a validation metric: choose on validation)."""
        key = (lambda n: self.mean(n, by)) if not _lower_is_better(by) else (lambda n: -self.mean(n, by))
        return max(self.names, key=key)


def _record(entry: Mapping) -> None:
    path = os.environ.get("COURSE_RECORD")
    if not path:
        return
    from .device import current_size, describe_device

    entry = {**entry, "size": current_size(), "device": describe_device()}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def compare(runs: Mapping[str, Callable[[int], Mapping[str, float]]], seeds: Sequence[int] = (0, 1, 2),
            title: str = "", progress: bool = True) -> Comparison:
    """Run every configuration once per seed: ``runs[name](seed)`` returns a dict of metrics.

    Returns a :class:`Comparison`. Each run gets the seed as its only argument (use
    ``functools.partial`` for the rest); it should seed everything it draws from it
    (:func:`course.device.set_seed`) so that a seed is one repeatable run. The time each run
    took is added as ``"time"``.
    """
    if not runs:
        raise ValueError("nothing to compare: give at least one configuration")
    seeds = tuple(seeds)
    if not seeds:
        raise ValueError("give at least one seed")
    values: dict[str, dict[str, list[float]]] = {}
    for name, run in runs.items():
        for seed in seeds:
            start = time.perf_counter()
            metrics = dict(run(seed))
            metrics.setdefault("time", time.perf_counter() - start)
            for metric, value in metrics.items():
                values.setdefault(name, {}).setdefault(metric, []).append(float(value))
        if progress:  # one line per configuration, once its seeds are done
            shown = ", ".join(f"{k} {statistics.fmean(v):.3f}" for k, v in values[name].items() if k != "time")
            print(f"{name}: {shown} (mean of {_seeds(len(seeds))}, {statistics.fmean(values[name]['time']):.1f} s "
                  f"per run)", flush=True)
    comparison = Comparison(values, seeds, title)
    _record({"kind": "comparison", "title": title, "seeds": list(seeds), "values": values})
    return comparison
