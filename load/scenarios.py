"""What each scenario does per step, and which writes it records for the audit.

A scenario talks to a `Client` (the Locust user in `locustfile.py`, or any object with the same
attributes): `send()` signs the exact bytes with the user's current key and a fresh nonce, records
the request, and returns `(status, body)`. One `step()` is one arrival in the open model.

Writes are registered before they are sent (`begin_write`, outcome unknown) and completed with the
status when the answer comes back, so a request cut off by the end of the run is still known to the audit.

| scenario | documents | what a step does |
| --- | --- | --- |
| push | `shared/ld-RUN-USER-K`, K < docs per user | push the next document, baseHash = the hash of the last 200 |
| append | `rooms/ld-RUN/events` (one log for all users) | append one element with its author proof |
| append-chunked | `rooms/ld-RUN/chunked` (`chunkSize` 100) | same, on a segmented log |
| pull | `shared/ld-RUN-USER-pull` (pushed once at set-up) | pull it; the hash must be the model's |
| checkpoint-pull | `rooms/ld-RUN-cp/events` | pull `?checkpoint=<last ts seen>&limit=100`; one step in 10 appends |
| conflict | `shared/ld-RUN-conflict` (one for all users) | push on the last known hash; on 409 retry on |
|  |  | `currentHash` (or a fresh pull's hash) until it converges |
"""

from __future__ import annotations

import itertools
import json
import random
import time
from typing import Any, Protocol

from load.keys import DeviceKey, KeyRing
from load.recorder import Recorder
from load.wire import Wire, append_body, push_body

SCENARIOS = ("push", "append", "append-chunked", "pull", "checkpoint-pull", "conflict")


class Client(Protocol):
    uid: str
    run_id: str
    wire: Wire
    keys: KeyRing
    recorder: Recorder
    last_latency_ms: float  # of the last request sent
    last_done: float  # Unix time its answer came

    def send(self, method: str, path: str, body: bytes = b"", *, name: str,
             key: tuple[DeviceKey, int] | None = None) -> tuple[int, bytes]: ...


def _json(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class Scenario:
    name = "?"
    # Statuses that are part of the scenario's normal behaviour, not errors (besides 200).
    expected_statuses: frozenset[int] = frozenset()

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = options or {}

    def setup(self, c: Client) -> None:
        """Once per user before its first step (requests named `setup`)."""

    def step(self, c: Client) -> None:
        raise NotImplementedError

    # -- shared write helpers -----------------------------------------------------------------------
    def push_doc(self, c: Client, key: str, data: dict[str, Any], base: str | None, name: str) -> tuple[int, dict]:
        write = {"k": "doc", "key": key, "base": base, "data": data, "st": None, "hash": None}
        c.recorder.begin_write(write)
        status, payload = c.send("POST", c.wire.push_path(key), push_body(data, base), name=name)
        answer = _json(payload)
        write["st"] = status
        if status == 200:
            write["hash"] = answer.get("hash")
        c.recorder.end_write(write)
        return status, answer

    def append(self, c: Client, key: str, data: dict[str, Any], name: str) -> tuple[int, dict]:
        device, count = c.keys.take()
        body = append_body(device.credential, key, data)
        write = {"k": "log", "key": key, "data": data, "st": None, "hash": None, "ts": None}
        c.recorder.begin_write(write)
        status, payload = c.send("POST", c.wire.push_path(key), body, name=name, key=(device, count))
        answer = _json(payload)
        write["st"] = status
        write["lat"], write["done"] = c.last_latency_ms, c.last_done
        if status == 200:
            write["hash"] = answer.get("hash")
            write["ts"] = answer.get("timestamp")
        c.recorder.end_write(write)
        return status, answer


class Push(Scenario):
    name = "push"

    def setup(self, c: Client) -> None:
        count = int(self.options.get("docs_per_user", 8))
        self.docs = [f"shared/ld-{c.run_id}-{c.uid}-{k}" for k in range(count)]
        self.hashes: list[str | None] = [None] * count
        self.pad = "x" * int(self.options.get("pad", 64))
        self.seq = 0

    def step(self, c: Client) -> None:
        index = self.seq % len(self.docs)
        self.seq += 1
        data = {"u": c.uid, "s": self.seq, "pad": self.pad}
        status, answer = self.push_doc(c, self.docs[index], data, self.hashes[index], "push")
        if status == 200:
            self.hashes[index] = answer.get("hash")
        elif status == 409:  # a single-writer document should never conflict: re-sync and go on (an error)
            self.hashes[index] = answer.get("currentHash")


class Append(Scenario):
    name = "append"
    collection = "events"

    def setup(self, c: Client) -> None:
        self.key = f"rooms/ld-{c.run_id}/{self.collection}"
        self.seq = 0

    def step(self, c: Client) -> None:
        self.seq += 1
        self.append(c, self.key, {"u": c.uid, "s": self.seq}, self.name)


class AppendChunked(Append):
    name = "append-chunked"
    collection = "chunked"


class Pull(Scenario):
    name = "pull"

    def setup(self, c: Client) -> None:
        self.key = f"shared/ld-{c.run_id}-{c.uid}-pull"
        data = {"u": c.uid, "pad": "x" * int(self.options.get("pad", 64))}
        status, answer = self.push_doc(c, self.key, data, None, "setup")
        self.expected = answer.get("hash") if status == 200 else None

    def step(self, c: Client) -> None:
        status, payload = c.send("GET", c.wire.pull_path(self.key), name="pull")
        if status == 200 and self.expected is not None:
            got = _json(payload).get("hash")
            if got != self.expected:
                c.recorder.bad_reads.append(f"pull {self.key}: hash {got!r}, the model has {self.expected!r}")


class CheckpointPull(Scenario):
    name = "checkpoint-pull"

    def setup(self, c: Client) -> None:
        self.key = f"rooms/ld-{c.run_id}-cp/events"
        self.seq = 0
        self.last_ts = 0
        self.write_share = float(self.options.get("write_share", 0.1))
        for _ in range(3):
            self._append(c, "setup")

    def _append(self, c: Client, name: str) -> None:
        self.seq += 1
        self.append(c, self.key, {"u": c.uid, "s": self.seq}, name)

    def step(self, c: Client) -> None:
        if random.random() < self.write_share:
            self._append(c, "cp-append")
            return
        checkpoint = self.last_ts
        status, payload = c.send("GET", c.wire.pull_path(self.key, f"checkpoint={checkpoint}&limit=100"),
                                 name="checkpoint-pull")
        if status != 200:
            return
        items = _json(payload).get("data", {}).get("items", [])
        stamps = [item.get("ts") for item in items if isinstance(item, dict)]
        if any(not isinstance(ts, int) or ts <= checkpoint for ts in stamps):
            c.recorder.bad_reads.append(f"checkpoint pull {self.key}?checkpoint={checkpoint}: an element at or "
                                        f"before the checkpoint: {stamps[:5]}")
        elif any(b <= a for a, b in itertools.pairwise(stamps)):
            c.recorder.bad_reads.append(f"checkpoint pull {self.key}: timestamps not strictly increasing")
        elif stamps:
            self.last_ts = stamps[-1]


class Conflict(Scenario):
    name = "conflict"
    expected_statuses = frozenset({409})

    def setup(self, c: Client) -> None:
        self.key = f"shared/ld-{c.run_id}-conflict"
        self.base: str | None = None
        self.seq = 0
        self.max_attempts = int(self.options.get("max_attempts", 100))

    def step(self, c: Client) -> None:
        self.seq += 1
        data = {"u": c.uid, "s": self.seq}
        for attempt in range(1, self.max_attempts + 1):
            status, answer = self.push_doc(c, self.key, data, self.base, "conflict")
            if status == 200:
                self.base = answer.get("hash")
                c.recorder.converge.append(attempt)
                return
            if status != 409:
                break
            # Back off a random 0..attempt ms (at most 20 ms) as real clients do, so that one fast writer
            # cannot starve the others forever; every attempt is still counted.
            time.sleep(random.uniform(0, min(0.001 * attempt, 0.02)))
            if isinstance(answer.get("currentHash"), str):
                self.base = answer["currentHash"]
            else:  # a server whose 409 does not carry currentHash (the TypeScript server): pull it
                status, payload = c.send("GET", c.wire.pull_path(self.key), name="conflict-pull")
                if status != 200:
                    break
                self.base = _json(payload).get("hash") or None
        c.recorder.unconverged += 1


REGISTRY: dict[str, type[Scenario]] = {
    cls.name: cls for cls in (Push, Append, AppendChunked, Pull, CheckpointPull, Conflict)
}


def parse_mix(text: str) -> list[tuple[str, float]]:
    """`push=5,pull=3,append=1` -> [(name, weight)]; raises ValueError with the reason."""
    mix = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, weight = part.partition("=")
        name = name.strip()
        if name not in REGISTRY:
            raise ValueError(f"unknown scenario {name!r} in the mix; known: {', '.join(SCENARIOS)}")
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            raise ValueError(f"weight of {name!r} must be a number (got {weight!r})") from None
        if value <= 0:
            raise ValueError(f"weight of {name!r} must be positive")
        mix.append((name, value))
    if not mix:
        raise ValueError("the mix is empty; give it as push=5,pull=3,append=1")
    return mix


def assign(mix: list[tuple[str, float]], index: int) -> str:
    """The scenario of the index-th user: smooth weighted round robin, so any prefix follows the weights."""
    total = sum(w for _, w in mix)
    counts = dict.fromkeys((n for n, _ in mix), 0)
    chosen = mix[0][0]
    for i in range(index + 1):
        chosen = max(mix, key=lambda item: (i + 1) * item[1] / total - counts[item[0]])[0]
        counts[chosen] += 1
    return chosen
