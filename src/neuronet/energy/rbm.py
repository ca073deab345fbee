"""Restricted Boltzmann machine (issue 7)."""
__all__: list[str] = []
