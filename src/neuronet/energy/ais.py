"""Annealed importance sampling (issue 7)."""
__all__: list[str] = []
