"""`python -m service.guides [DIR] [--update-lock]`: check guides, or refresh the version lock."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.guides import GUIDES_DIR, GuideError, check_guides, update_lock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.guides", description=__doc__)
    parser.add_argument("directory", nargs="?", type=Path, default=GUIDES_DIR)
    parser.add_argument(
        "--update-lock", action="store_true", help="record current versions after a version bump"
    )
    args = parser.parse_args(argv)
    if args.update_lock:
        try:
            path = update_lock(args.directory)
        except GuideError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"wrote {path}")
        return 0
    problems = check_guides(args.directory)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"guides OK: {args.directory}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
