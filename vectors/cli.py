"""`starfish-conformance vectors ...` (owned by the vectors package; filled in by the vectors work)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser("vectors", help="replay and generate cross-language test vectors")
