"""The command line: ``docker-build-fixer diagnose LOG... [--json]`` (SPEC section 6).

Exit codes: 0 done (with or without findings), 2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys

from .diagnosis import diagnose_file
from .diagnosis.report import render_json, render_text

EXIT_OK, EXIT_BAD_INPUT = 0, 2
PROG = "docker-build-fixer"


class CliError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


def _readable(path: str) -> str:
    if os.path.isdir(path):
        raise CliError(f"cannot read {path}: it is a directory, not a log file")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    return path


def cmd_diagnose(args: argparse.Namespace) -> int:
    paths = [_readable(p) for p in args.logs]
    results = []
    for path in paths:
        try:
            results.append((path, diagnose_file(path)))
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    if args.json:
        print(render_json([f for _, findings in results for f in findings]))
    else:
        print("\n\n".join(render_text(path, findings) for path, findings in results))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Diagnose failed multi-platform Docker builds from GitHub Actions job logs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    diagnose = sub.add_parser("diagnose", help="say why a build failed, from its job log(s)")
    diagnose.add_argument("logs", nargs="+", metavar="LOG", help="a GitHub Actions job log file")
    diagnose.add_argument("--json", action="store_true", help="print findings as JSON")
    diagnose.set_defaults(handler=cmd_diagnose)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CliError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `docker-build-fixer diagnose big.log | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
