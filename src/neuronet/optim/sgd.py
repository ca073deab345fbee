"""SGD, Momentum, Nesterov (issue 2)."""
__all__: list[str] = []
