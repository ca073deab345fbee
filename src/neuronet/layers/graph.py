"""Convolution on graphs (issue 4)."""
__all__: list[str] = []
