"""`neuronet reproduce`: the lectures' published tables, one command each.

Each module of this package registers one reproduction (see registry.py).
"""
from .registry import REGISTRY, Reproduction, get, names, register  # noqa: F401
