"""The neuronet command (issue 3)."""
__all__: list[str] = []


def main(argv=None):  # replaced by issue 3
    raise SystemExit("neuronet: command line not built yet")
