"""Character language model (issue 5)."""
__all__: list[str] = []
