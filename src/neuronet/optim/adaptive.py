"""RMSProp, AdaDelta, Adam, Nadam (issue 2)."""
__all__: list[str] = []
