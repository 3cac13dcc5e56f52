"""The `starfish-conformance` command: one entry point, one subcommand per capability.

Each capability registers its own subcommand (`register(subparsers)`) from the package that owns
it, so this file stays a table of contents. A user mistake raises `UsageError` and becomes one
line on stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence


class UsageError(Exception):
    """A mistake in how the command was called; the message says what to do instead."""


Register = Callable[[argparse._SubParsersAction], None]


def _registrars() -> list[Register]:
    from conformance.compare import register as register_compare
    from conformance.fuzz import register as register_fuzz
    from conformance.images import register as register_images
    from conformance.profile.cli import register as register_profile
    from conformance.run import register as register_run
    from conformance.selfcheck import register as register_selfcheck
    from load.cli import register as register_load
    from reference_server.cli import register as register_serve
    from vectors.cli import register as register_vectors

    return [register_run, register_selfcheck, register_compare, register_images, register_fuzz, register_profile,
            register_vectors, register_serve, register_load]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="starfish-conformance",
        description="Conformance and load-testing harness for the Starfish v3 document-sync protocol.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _registrars():
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except UsageError as exc:
        print(f"starfish-conformance {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
