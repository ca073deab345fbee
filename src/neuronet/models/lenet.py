"""LeNet-5 (issue 4)."""
__all__: list[str] = []
