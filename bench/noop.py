"""The routing floor's job: RQ runs it with the same worker class as `defuse worker`."""


def noop() -> None:
    return None
