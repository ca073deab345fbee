"""Image grids: filters, reconstructions, samples (issue 7)."""
__all__: list[str] = []
