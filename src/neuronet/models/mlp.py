"""MLP builder (issue 3)."""
__all__: list[str] = []
