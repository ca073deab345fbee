"""Toy data: flower, logic tables (issue 3)."""
__all__: list[str] = []
