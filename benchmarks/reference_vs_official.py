"""Benchmark: the reference server against the official Python server, side by side in one run.

What it measures (issue 3, "Performance"):
  1. signed push with baseHash chaining and signed pull: req/s of each server and the ratio
     reference / official (target: >= 1.5);
  2. append to one append-only document on the reference server: throughput with the log at
     50 000 elements relative to an empty log, with and without chunkSize (target: >= 0.8).

How: each server runs as its own single process pinned to core 0 (`taskset -c 0`); this load
generator pins itself to core 1 and drives N keep-alive connections with a raw asyncio client
that signs every request freshly (new nonce, exact bytes). The official server's nonce-cache
limits are raised so they do not interfere. Traffic goes only to 127.0.0.1.

Usage: .venv/bin/python benchmarks/reference_vs_official.py [--seconds 8] [--connections 32]
The printed report is also written to benchmarks/results/reference_vs_official.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.rawclient import RawConnection
from conformance.targets import official_py
from protocol.author import sign_append_author
from protocol.capcert import build_cap_cert
from protocol.keys import SigningKey
from protocol.signing import Credential

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "reference_vs_official.txt"
PREFIX = "/v1"

CONFIG = {
    "version": 1,
    "collections": [
        {
            "name": "notes",
            "storagePath": "users/{identity}/notes/{docId}",
            "readRoles": ["self"],
            "writeRoles": ["self"],
            "encryption": "none",
            "maxBodyBytes": 65536,
        },
        {
            "name": "log",
            "storagePath": "logs/{logId}",
            "readRoles": ["public"],
            "writeRoles": ["cap:write:log"],
            "encryption": "none",
            "maxBodyBytes": 65536,
            "appendOnly": {"type": "by_timestamp"},
        },
        {
            "name": "logc",
            "storagePath": "chunked/{logId}",
            "readRoles": ["public"],
            "writeRoles": ["cap:write:logc"],
            "encryption": "none",
            "maxBodyBytes": 65536,
            "appendOnly": {"type": "by_timestamp", "chunkSize": 512},
        },
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Device:
    """A root device: a fresh key with a self-signed cap over every benchmark collection."""

    def __init__(self) -> None:
        self.key = SigningKey.generate()
        now = int(time.time())
        self.cap = build_cap_cert(
            issuer=self.key,
            sub=self.key.pub,
            sub_kem="00" * 32,
            scope={"ops": ["read", "write"], "collections": ["notes", "log", "logc"]},
            nbf=now - 60,
            exp=now + 3600,
        )
        self.user_id = self.key.user_id
        self.credential = Credential(self.cap, self.key)

    def headers(self, conn: RawConnection, method: str, target: str, body: bytes = b"") -> dict[str, str]:
        content_type = "application/json" if method == "POST" else None
        signed = self.credential.headers(method, target, body, host=conn.host_header, content_type=content_type)
        if content_type:
            signed["Content-Type"] = content_type
        return signed


@contextlib.contextmanager
def server(name: str, command: list[str], env: dict[str, str], port: int) -> Iterator[None]:
    """Start a server pinned to core 0 and wait for its /health; always stop it."""
    pinned = ["taskset", "-c", "0", *command] if shutil.which("taskset") else command
    process = subprocess.Popen(pinned, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited during start-up: {process.stderr.read().decode()[-500:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not listen on port {port} within 30 s")
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def run_for(seconds: float, connections: int, port: int, step: Callable[[RawConnection, int], Awaitable[bool]]):
    """Run `step` in a loop on each connection until `seconds` pass; returns (ok, errors, elapsed, cpu)."""
    conns = [RawConnection("127.0.0.1", port) for _ in range(connections)]
    for conn in conns:
        await conn.open()
    ok = errors = 0
    stop_at = time.monotonic() + seconds

    async def worker(conn: RawConnection, index: int) -> None:
        nonlocal ok, errors
        while time.monotonic() < stop_at:
            if await step(conn, index):
                ok += 1
            else:
                errors += 1

    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker(conn, i) for i, conn in enumerate(conns)))
    elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
    for conn in conns:
        await conn.close()
    return ok, errors, elapsed, cpu


async def run_count(total: int, connections: int, port: int, step: Callable[[RawConnection, int], Awaitable[bool]]):
    """Run exactly `total` steps spread over the connections; returns (ok, errors, elapsed, cpu)."""
    conns = [RawConnection("127.0.0.1", port) for _ in range(connections)]
    for conn in conns:
        await conn.open()
    counter = itertools.count()
    ok = errors = 0

    async def worker(conn: RawConnection, index: int) -> None:
        nonlocal ok, errors
        while next(counter) < total:
            if await step(conn, index):
                ok += 1
            else:
                errors += 1

    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker(conn, i) for i, conn in enumerate(conns)))
    elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
    for conn in conns:
        await conn.close()
    return ok, errors, elapsed, cpu


async def push_and_pull(port: int, seconds: float, connections: int) -> dict[str, float]:
    devices = [Device() for _ in range(connections)]
    hashes: list[str | None] = [None] * connections
    first_error: list[str] = []

    def doc_path(index: int) -> str:
        return f"{PREFIX}/push/users/{devices[index].user_id}/notes/bench"

    async def push(conn: RawConnection, index: int) -> bool:
        device = devices[index]
        body = json.dumps({"data": {"n": time.monotonic_ns(), "who": index}, "baseHash": hashes[index]}).encode()
        target = doc_path(index)
        response = await conn.request("POST", target, device.headers(conn, "POST", target, body), body)
        if response.status == 200:
            hashes[index] = response.json()["hash"]
            return True
        if not first_error:
            first_error.append(f"push {response.status} {response.body[:200]!r}")
        return False

    async def pull(conn: RawConnection, index: int) -> bool:
        device = devices[index]
        target = f"{PREFIX}/pull/users/{device.user_id}/notes/bench"
        response = await conn.request("GET", target, device.headers(conn, "GET", target))
        if response.status != 200 and not first_error:
            first_error.append(f"pull {response.status} {response.body[:200]!r}")
        return response.status == 200

    await run_for(1.0, connections, port, push)  # warm-up, also creates every document
    push_ok, push_err, push_s, push_cpu = await run_for(seconds, connections, port, push)
    pull_ok, pull_err, pull_s, pull_cpu = await run_for(seconds, connections, port, pull)
    if first_error:
        print(f"    first error: {first_error[0]}")
    return {
        "push_rps": push_ok / push_s,
        "push_errors": push_err,
        "push_client_cpu_ms": 1000 * push_cpu / max(push_ok + push_err, 1),
        "pull_rps": pull_ok / pull_s,
        "pull_errors": pull_err,
        "pull_client_cpu_ms": 1000 * pull_cpu / max(pull_ok + pull_err, 1),
    }


async def append_scaling(port: int, route: str, fill_to: int, sample: int, connections: int, rounds: int):
    """Append throughput on a log of `fill_to` elements relative to an empty log.

    Noise on a shared 2-core machine is larger than the effect being measured, so the two are
    measured alternately, `rounds` times each (a fresh empty log every round), and medians compared.
    """
    # One device per connection: ~60 000 appends from one key would exhaust any per-signer nonce quota.
    devices = [Device() for _ in range(connections)]
    failures: list[str] = []

    def appender(log_id: str) -> Callable[[RawConnection, int], Awaitable[bool]]:
        document_key = f"{route}/{log_id}"
        target = f"{PREFIX}/push/{document_key}"

        async def append(conn: RawConnection, index: int) -> bool:
            device = devices[index]
            data = {"v": time.monotonic_ns()}
            body = json.dumps({"data": data, **sign_append_author(device.key, document_key, data)}).encode()
            response = await conn.request("POST", target, device.headers(conn, "POST", target, body), body)
            if response.status != 200 and not failures:
                failures.append(f"append {response.status} {response.body[:200]!r}")
            return response.status == 200

        return append

    big = appender(f"big-{time.monotonic_ns()}")
    filled = 0
    while filled < fill_to:
        ok, _, _, _ = await run_count(min(5000, fill_to - filled), connections, port, big)
        filled += ok
        if ok == 0:
            break
    empty_rates, full_rates = [], []
    for round_index in range(rounds):
        ok, _, seconds, _ = await run_count(
            sample, connections, port, appender(f"empty-{round_index}-{time.monotonic_ns()}")
        )
        empty_rates.append(ok / seconds)
        ok, _, seconds, _ = await run_count(sample, connections, port, big)
        full_rates.append(ok / seconds)
        filled += ok
    if failures:
        print(f"    first error: {failures[0]}")
    return {"empty_rps": statistics.median(empty_rates), "full_rps": statistics.median(full_rates), "elements": filled}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measurement time per push/pull scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--append-fill", type=int, default=50_000, help="log size for the append comparison")
    parser.add_argument("--append-sample", type=int, default=2_000, help="appends per measurement")
    parser.add_argument("--append-rounds", type=int, default=5, help="alternating measurements per log size")
    parser.add_argument("--stores", default="memory,sqlite", help="reference server stores for the append comparison")
    parser.add_argument("--skip-push-pull", action="store_true", help="only the append comparison")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > 1:
        os.sched_setaffinity(0, {1})

    workdir = Path(tempfile.mkdtemp(prefix="starfish-bench-"))
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(CONFIG))
    official_python = official_py.ensure_env()
    lines = [
        f"# reference vs official, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"{args.connections} connections, {args.seconds:.0f} s per scenario",
        "# servers pinned to core 0, this generator to core 1; uvicorn[standard] for both",
    ]

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    results: dict[str, dict[str, float]] = {}
    port = free_port()
    reference_cmd = [
        str(REPO / ".venv" / "bin" / "starfish-conformance"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--prefix",
        PREFIX,
        "--config",
        str(config_path),
    ]
    official_cmd = [str(official_python), str(official_py.LAUNCHER)]
    official_env = {
        "PORT": str(port),
        "STARFISH_CONFIG": str(config_path),
        "STARFISH_PREFIX": PREFIX,
        "STARFISH_NONCE_PER_SIGNER": "10000000",
        "STARFISH_NONCE_MAX": "10000000",
    }
    pairs = () if args.skip_push_pull else (("official", official_cmd, official_env), ("reference", reference_cmd, {}))
    for name, command, env in pairs:
        print(f"== {name}: push and pull", flush=True)
        with server(name, command, env, port):
            results[name] = asyncio.run(push_and_pull(port, args.seconds, args.connections))
        r = results[name]
        report(
            f"{name:9s} signed push {r['push_rps']:8.0f} req/s ({r['push_errors']} errors, "
            f"client {r['push_client_cpu_ms']:.3f} ms CPU/req)   signed pull {r['pull_rps']:8.0f} req/s "
            f"({r['pull_errors']} errors, client {r['pull_client_cpu_ms']:.3f} ms CPU/req)"
        )
    if results:
        push_ratio = results["reference"]["push_rps"] / results["official"]["push_rps"]
        pull_ratio = results["reference"]["pull_rps"] / results["official"]["pull_rps"]
        report(f"ratio reference/official: push {push_ratio:.2f}x, pull {pull_ratio:.2f}x (target >= 1.5x)")

    for store in args.stores.split(","):
        store_arg = "memory" if store == "memory" else f"sqlite:{workdir / 'bench.sqlite3'}"
        with server("reference", [*reference_cmd, "--store", store_arg], {}, port):
            for collection, route in (("log", "logs"), ("logc", "chunked")):
                print(f"== reference ({store} store): append scaling on {collection}", flush=True)
                r = asyncio.run(
                    append_scaling(
                        port, route, args.append_fill, args.append_sample, min(args.connections, 16), args.append_rounds
                    )
                )
                ratio = r["full_rps"] / r["empty_rps"]
                label = "unchunked" if collection == "log" else "chunkSize=512"
                report(
                    f"append {store:6s} {label:13s} empty {r['empty_rps']:7.0f}/s, at {r['elements']:6d} elements "
                    f"{r['full_rps']:7.0f}/s: ratio {ratio:.2f} (target >= 0.8; medians of {args.append_rounds} "
                    "alternating rounds)"
                )
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS.relative_to(REPO)}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
