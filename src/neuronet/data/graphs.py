"""TU graph data sets (issue 4)."""
__all__: list[str] = []
