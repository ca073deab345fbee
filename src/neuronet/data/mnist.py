"""MNIST and Fashion-MNIST (issue 3)."""
__all__: list[str] = []
