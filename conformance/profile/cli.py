"""`starfish-conformance profile path|show`: where the conformance profile is, and what it says."""

from __future__ import annotations

import argparse

from conformance.profile import PROFILE_PATH


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("profile", help="the collection config every server under test must load")
    parser.add_argument("action", choices=("path", "show"), help="path: print its absolute path; show: print it")
    parser.set_defaults(handler=run_profile)


def run_profile(args: argparse.Namespace) -> int:
    if args.action == "path":
        print(PROFILE_PATH)
    else:
        print(PROFILE_PATH.read_text(encoding="utf-8"), end="")
    return 0
