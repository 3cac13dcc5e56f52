"""`starfish-conformance vectors verify|generate` (the vectors package owns this subcommand)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.cli import UsageError
from vectors.generate import PACKAGE_DIR, stale_files, write_all
from vectors.replay import FileSelectionError, all_ok, verify_paths
from vectors.report import json_lines, text_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("vectors", help="replay and generate cross-language test vectors")
    parser.set_defaults(handler=lambda _args: _help(parser))
    commands = parser.add_subparsers(dest="vectors_command", metavar="ACTION")

    verify = commands.add_parser(
        "verify",
        help="replay vector files against our protocol kit",
        description="Replay every *.json in each DIR (not recursive) and each FILE against the protocol kit. "
        "Exit 0 only when every case passes (server-bound cases are listed as needing a target).",
    )
    verify.add_argument("paths", nargs="+", metavar="DIR_OR_FILE")
    verify.add_argument("--json", action="store_true", help="print one JSON object per case (JSON lines)")
    verify.set_defaults(handler=_verify)

    generate = commands.add_parser(
        "generate",
        help="write the project's own vector files",
        description="Write the project's vector files deterministically (same bytes on every run).",
    )
    generate.add_argument(
        "--out",
        type=Path,
        default=PACKAGE_DIR,
        metavar="DIR",
        help="output directory (default: the vectors package folder)",
    )
    generate.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file in DIR is missing or out of date"
    )
    generate.set_defaults(handler=_generate)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _verify(args: argparse.Namespace) -> int:
    try:
        results = verify_paths(args.paths)
    except FileSelectionError as exc:
        raise UsageError(str(exc)) from None
    sys.stdout.write(json_lines(results) if args.json else text_table(results))
    return 0 if all_ok(results) else 1


def _generate(args: argparse.Namespace) -> int:
    out: Path = args.out
    if args.check:
        if not out.is_dir():
            raise UsageError(f"{out}: no such directory")
        stale = stale_files(out)
        for name in stale:
            print(f"out of date: {out / name}")
        if not stale:
            print(f"all generated vector files in {out} are up to date")
        return 1 if stale else 0
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a directory")
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent}: no such directory (create it first)")
    for path in write_all(out):
        print(f"wrote {path}")
    return 0
