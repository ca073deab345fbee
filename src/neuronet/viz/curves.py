"""Training curves (issue 3)."""
__all__: list[str] = []
