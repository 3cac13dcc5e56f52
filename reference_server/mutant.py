"""`python -m reference_server.mutant --fault NAME [serve options]`: the reference server with deliberate bugs.

For `starfish-conformance selfcheck` only (reference_server/faults.py explains why). This is the one
entry point that switches faults on: `serve` has no such option and reads no environment for it. The
server announces its faults on stderr at start-up, so a mutant can never pass for the real thing in a log.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from reference_server.cli import add_arguments, run_serve
from reference_server.faults import FAULTS, Faults, SignatureOracle, UnknownFault, describe


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reference_server.mutant",
        description="Run the reference server with deliberate faults (self-check mutants). Never use it to serve "
                    "anything: every fault breaks a protocol rule on purpose.")
    parser.add_argument("--fault", action="append", required=True, metavar="NAME",
                        help=f"a fault from reference_server/faults.py (repeatable); {len(FAULTS)} are registered")
    parser.add_argument("--signature-oracle", metavar="FILE",
                        help="the harness's record of request signatures (needed by the sig-*-unbound faults)")
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from conformance.cli import UsageError

    args = build_parser().parse_args(argv)
    try:
        faults = Faults(args.fault, oracle=SignatureOracle(args.signature_oracle) if args.signature_oracle else None)
    except UnknownFault as exc:
        print(f"reference_server.mutant: error: {exc}", file=sys.stderr)
        return 2
    print(f"MUTANT reference server, deliberately broken: {describe(args.fault)}", file=sys.stderr, flush=True)
    try:
        return run_serve(args, faults=faults)
    except UsageError as exc:
        print(f"reference_server.mutant: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
