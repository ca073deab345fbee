"""Fully connected layer (issue 2)."""
__all__: list[str] = []
