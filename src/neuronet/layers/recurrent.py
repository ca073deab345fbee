"""Recurrent layers (issue 5)."""
__all__: list[str] = []
