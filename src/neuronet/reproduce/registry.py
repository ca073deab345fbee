"""The registry of reproductions: each published number of the lectures, by name.

An entry pairs a published result (paper, table) with our recipe; running it
gives our number beside the paper's. Entries are registered by the module that
defines them (one file per reproduction in this package).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Reproduction", "register", "get", "names", "REGISTRY"]

REGISTRY: dict = {}


@dataclass(frozen=True)
class Reproduction:
    """``published`` and ``target`` map a metric name to a number; ``run(ctx)``
    returns ours under the same keys (plus any details it wants recorded).

    ``lower_is_better``: a bool for every metric, or a dict metric -> bool
    (missing metrics: lower is better); it says which side of ``target`` passes.
    """
    name: str
    title: str
    published: dict
    source: str
    recipe: str
    run: Callable
    differences: str = ""
    target: dict = field(default_factory=dict)
    minutes: float = 1.0
    lower_is_better: bool | dict = True

    def lower_is_better_for(self, metric: str) -> bool:
        if isinstance(self.lower_is_better, dict):
            return bool(self.lower_is_better.get(metric, True))
        return bool(self.lower_is_better)


def register(entry: Reproduction, replace: bool = False) -> Reproduction:
    """Add ``entry``; a second entry under a taken name is an error unless ``replace``."""
    if not isinstance(entry, Reproduction):
        raise TypeError(f"register() takes a Reproduction, got {type(entry).__name__}")
    if entry.name in REGISTRY and not replace:
        raise ValueError(f"a reproduction named {entry.name!r} is already registered")
    REGISTRY[entry.name] = entry
    return entry


def get(name: str) -> Reproduction:
    if name not in REGISTRY:
        raise KeyError(f"no reproduction named {name!r}; known: {', '.join(names())}")
    return REGISTRY[name]


def names() -> list:
    return sorted(REGISTRY)
