"""Per-step heads and sequence losses (issue 5)."""
__all__: list[str] = []
