"""`starfish-conformance serve ...` (owned by the reference server; filled in by the server work)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser("serve", help="run the embedded reference server")
