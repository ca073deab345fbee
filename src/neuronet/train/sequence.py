"""Truncated-BPTT sequence trainer (issue 5)."""
__all__: list[str] = []
