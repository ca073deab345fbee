"""Losses (issue 2)."""
__all__: list[str] = []
