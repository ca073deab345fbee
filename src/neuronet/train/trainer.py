"""fit loop (issue 3)."""
__all__: list[str] = []
