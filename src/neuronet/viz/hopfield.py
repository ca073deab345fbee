"""Hopfield pictures (issue 6)."""
__all__: list[str] = []
