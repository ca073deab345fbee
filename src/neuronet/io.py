"""Save and load models (issue 3)."""
__all__: list[str] = []
