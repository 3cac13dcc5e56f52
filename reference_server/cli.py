"""`starfish-conformance serve`: run the reference server until SIGINT/SIGTERM.

It binds the socket itself (so `--port 0` picks a free port), starts uvicorn (httptools + uvloop)
on it, and prints the base URL (`http://HOST:PORT/PREFIX`) on stdout once it accepts connections,
so a harness can start it and read one line. uvicorn handles SIGINT/SIGTERM by finishing in-flight
requests and running the shutdown that closes the store.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from reference_server.app import ServerOptions, StarfishApp
from reference_server.config import ConfigError, ServerConfig, load_config_file
from reference_server.revocations import RevocationRejected
from reference_server.storage import open_store

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "conformance" / "profile" / "starfish-profile.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the embedded reference server",
                                   description="Run the Starfish v3 reference server; prints its URL when ready.")
    add_arguments(parser)
    parser.set_defaults(handler=run_serve)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The server's flags (shared with `python -m reference_server.mutant`, the self-check's faulty servers)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--prefix", default="/v1", help="mount prefix (default /v1)")
    parser.add_argument("--config", help="collection config JSON (default: the conformance profile)")
    parser.add_argument("--store", default="memory", help="memory (default) or sqlite:PATH")
    parser.add_argument("--revocations", help="JSON file: one signed revocation list, or a list of them")
    parser.add_argument("--max-batch-append-elements", type=int, default=5000,
                        help="batch pull append-element budget (default 5000)")
    parser.add_argument("--max-signed-body-bytes", type=int, default=65_536,
                        help="largest body a cap-signed write may declare (default 65536)")
    parser.add_argument("--nonce-per-signer", type=int, default=65_536,
                        help="live nonces remembered per signing key (default 65536)")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])


def build_app(args: argparse.Namespace, **app_options: Any) -> StarfishApp:
    """Everything that can fail because of the user's input fails here, as a UsageError."""
    from conformance.cli import UsageError

    if not args.prefix.startswith("/"):
        raise UsageError(f"--prefix must start with / (got {args.prefix!r})")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535 (got {args.port})")
    for name in ("max_batch_append_elements", "max_signed_body_bytes", "nonce_per_signer"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")
    try:
        config: ServerConfig = load_config_file(args.config or DEFAULT_CONFIG)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        store = open_store(args.store)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:  # sqlite3 errors: unreadable file, not a database, ...
        raise UsageError(f"cannot open store {args.store}: {exc}") from None
    options = ServerOptions(prefix=args.prefix.rstrip("/"), max_batch_append_elements=args.max_batch_append_elements,
                            max_signed_body_bytes=args.max_signed_body_bytes,
                            nonce_per_signer_limit=args.nonce_per_signer)
    try:
        app = StarfishApp(config, store, options, **app_options)
    except (ConfigError, ValueError) as exc:
        store.close()
        raise UsageError(str(exc)) from None
    if args.revocations:
        _load_revocations(app, args.revocations)
    return app


def _load_revocations(app: StarfishApp, path: str) -> None:
    from conformance.cli import UsageError

    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read --revocations {path}: {exc}") from None
    for index, revocation_list in enumerate(loaded if isinstance(loaded, list) else [loaded]):
        try:
            app.revocations.accept(revocation_list)
        except RevocationRejected as exc:
            if exc.code != "stale-generation":  # already stored (SQLite) at this or a newer generation: fine
                raise UsageError(f"--revocations {path}: list {index} rejected: {exc}") from None


def run_serve(args: argparse.Namespace, **app_options: Any) -> int:
    import uvloop

    from conformance.cli import UsageError

    app = build_app(args, **app_options)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        app.store.close()
        raise UsageError(f"cannot bind {args.host}:{args.port}: {exc.strerror}") from None
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    url = f"http://{host}:{port}{app.prefix}"
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = uvicorn.Config(app, loop="uvloop", http="httptools", lifespan="on", log_level=args.log_level,
                            access_log=False, server_header=False, date_header=False)
    server = _Server(config)

    async def main() -> None:
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        if server.started:
            print(url, flush=True)
        await serving

    uvloop.run(main())
    return 0


class _Server(uvicorn.Server):
    """uvicorn re-raises the stop signal after its graceful shutdown, so the process would exit with -15.

    A SIGINT/SIGTERM is how this server is meant to be stopped, so after the graceful shutdown it exits 0.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
