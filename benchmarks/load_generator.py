"""Benchmark: does the load harness measure the server or itself? (issue 7, "Performance targets")

Side by side in one run, the server pinned to core 0 and the generator to core 1:
  1. a minimal raw-asyncio client (benchmarks/rawclient.py) drives signed pushes with baseHash
     chaining: same device keys (load/keys.py), same request bytes (load/wire.py), same documents
     (`shared/...`, 8 per connection) as the harness;
  2. the harness (`load` engine: Locust user on load/leanhttp.py, `push` scenario) with as many users as the raw
     client has connections, for the same time.
Rounds alternate between the two; medians are compared. Targets: harness throughput >= 90 % of the
raw client's; the harness's own CPU per signed request (process CPU while users run / requests)
< 0.5 ms. Default server: the official Python server (PyPI starfish-server) with the conformance
profile, its nonce-cache limits raised so 401s cannot interfere.

Usage: .venv/bin/python benchmarks/load_generator.py [--server official|reference] [--seconds 8]
       [--connections 32] [--rounds 3]
The printed report is also written to benchmarks/results/load_generator.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.rawclient import RawConnection
from benchmarks.reference_vs_official import free_port, run_for, server
from conformance.profile import PROFILE_PATH
from load import engine
from load.keys import DeviceKey
from load.recorder import load_raw
from load.wire import Wire, push_body

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "load_generator.txt"
PREFIX = "/v1"
DOCS = 8


async def raw_push(port: int, seconds: float, connections: int) -> dict[str, float]:
    """Signed chained pushes from a raw asyncio client: req/s and client CPU per request."""
    wire = Wire(f"http://127.0.0.1:{port}{PREFIX}")
    run = secrets.token_hex(3)
    keys = [DeviceKey() for _ in range(connections)]
    docs = [[f"shared/raw-{run}-{i}-{k}" for k in range(DOCS)] for i in range(connections)]
    hashes: list[list[str | None]] = [[None] * DOCS for _ in range(connections)]
    seqs = [0] * connections
    pad = "x" * 64

    async def push(conn: RawConnection, index: int) -> bool:
        seq = seqs[index] = seqs[index] + 1
        k = seq % DOCS
        key = keys[index]
        if key.signed >= 4000:
            key = keys[index] = DeviceKey()
        key.signed += 1
        body = push_body({"u": index, "s": seq, "pad": pad}, hashes[index][k])
        path = wire.push_path(docs[index][k])
        headers = wire.signed(key.credential, "POST", path, body)
        response = await conn.request("POST", PREFIX + path, headers, body)
        if response.status == 200:
            hashes[index][k] = json.loads(response.body)["hash"]
            return True
        return False

    ok, errors, elapsed, cpu = await run_for(seconds, connections, port, push)
    return {"rps": ok / elapsed, "errors": errors, "cpu_ms": 1000 * cpu / max(ok + errors, 1)}


def harness_push(port: int, seconds: float, connections: int, workdir: Path) -> dict[str, float]:
    """The load harness's push scenario (Locust, pinned to core 1): req/s and its CPU per request."""
    spec = engine.RunSpec(
        base_url=f"http://127.0.0.1:{port}{PREFIX}",
        scenario="push",
        users=connections,
        duration_s=seconds,
        max_requests=10_000_000,
        output=workdir / secrets.token_hex(4),
        run_id=secrets.token_hex(3),
        docs_per_user=DOCS,
        stop_timeout_s=2,
    )
    command = spec.command
    pinned = (lambda: ["taskset", "-c", "1", *command()]) if shutil.which("taskset") else command
    spec.command = pinned  # type: ignore[method-assign]
    raw = load_raw(engine.run(spec))
    status = raw["columns"]["status"]
    sent, service = raw["columns"]["sent"], raw["columns"]["service_ms"]
    elapsed = max(s + ms / 1000 for s, ms in zip(sent, service, strict=True)) - min(raw["columns"]["intended"])
    ok = sum(1 for s in status if s == 200)
    cpu = raw["meta"].get("generator_cpu_s", float("nan"))
    return {"rps": ok / elapsed, "errors": len(status) - ok, "cpu_ms": 1000 * cpu / max(len(status), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("official", "reference"), default="official")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    workdir = Path(tempfile.mkdtemp(prefix="starfish-loadbench-"))
    port = free_port()
    if args.server == "official":
        from conformance.targets import official_py

        command = [str(official_py.ensure_env()), str(official_py.LAUNCHER)]
        env = {
            "PORT": str(port),
            "STARFISH_CONFIG": str(PROFILE_PATH),
            "STARFISH_PREFIX": PREFIX,
            "STARFISH_NONCE_PER_SIGNER": "10000000",
            "STARFISH_NONCE_MAX": "10000000",
        }
    else:
        command = [
            sys.executable,
            "-m",
            "conformance",
            "serve",
            "--port",
            str(port),
            "--prefix",
            PREFIX,
            "--config",
            str(PROFILE_PATH),
        ]
        env = {}
    lines = [
        f"# load generator vs raw asyncio client, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f} at start",
        f"# {args.server} server pinned to core 0, generators to core 1; signed chained push, "
        f"{args.connections} connections/users, {args.seconds:g} s per measurement, {args.rounds} rounds",
    ]

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    raws, harnesses = [], []
    with server(args.server, command, env, port):
        asyncio.run(raw_push(port, 1.0, args.connections))  # warm-up
        for round_index in range(args.rounds):
            raw = asyncio.run(raw_push(port, args.seconds, args.connections))
            harness = harness_push(port, args.seconds, args.connections, workdir)
            raws.append(raw)
            harnesses.append(harness)
            report(
                f"round {round_index + 1}: raw client {raw['rps']:7.0f} req/s ({raw['errors']} errors, "
                f"{raw['cpu_ms']:.3f} ms CPU/req)   harness {harness['rps']:7.0f} req/s ({harness['errors']} "
                f"errors, {harness['cpu_ms']:.3f} ms CPU/req)"
            )
    raw_rps = statistics.median(r["rps"] for r in raws)
    harness_rps = statistics.median(h["rps"] for h in harnesses)
    cpu = statistics.median(h["cpu_ms"] for h in harnesses)
    ratio = harness_rps / raw_rps
    report(
        f"median: raw client {raw_rps:.0f} req/s, harness {harness_rps:.0f} req/s: ratio {ratio:.2f} "
        f"(target >= 0.90) {'OK' if ratio >= 0.9 else 'MISSED'}"
    )
    report(
        f"harness CPU per signed request: {cpu:.3f} ms (target < 0.5 ms) {'OK' if cpu < 0.5 else 'MISSED'}; "
        f"raw client {statistics.median(r['cpu_ms'] for r in raws):.3f} ms"
    )
    report(f"load average at end {os.getloadavg()[0]:.2f}")
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS.relative_to(REPO)}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
