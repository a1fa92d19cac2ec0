"""A job that always fails, for the failed-jobs page."""


def explode(case_id: int) -> None:
    raise RuntimeError(f"simulated failure for case {case_id}: secret words")
