"""Raw per-request records and the model of acknowledged writes, per process, mergeable on a master.

Every request is kept (not bucketed): intended start, actual send time, latency, service time,
status, operation name and the request's count on its signing key. Latency is measured from the
intended start (open model: the scheduled arrival; closed model: the moment the user was ready), so
a slow server cannot hide queueing delay (no coordinated omission). Writes are recorded with their
outcome so the audit can compare the server with a model of every 200.

In distributed mode a worker ships what it has gathered to the master in Locust's periodic
`report_to_master` message (and once more on quit); the master merges it with `merge()`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = ("intended", "sent", "latency_ms", "service_ms", "status", "name", "kn")


class Recorder:
    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        self.writes: list[dict[str, Any]] = []  # answered writes, and at the end those never answered
        self.pending: dict[int, dict[str, Any]] = {}  # writes sent and not yet answered
        self.auth_failures: list[list[Any]] = []  # [sent, key_id, kn] of every 401
        self.bad_reads: list[str] = []  # reads whose content contradicts the model
        self.converge: list[int] = []  # conflict scenario: attempts per converged write
        self.unconverged = 0
        self.keys_used = 0
        self.meta: dict[str, Any] = {}

    def request(self, intended: float, sent: float, latency_ms: float, service_ms: float, status: int, name: str,
                kn: int) -> None:
        c = self.columns
        c["intended"].append(intended)
        c["sent"].append(sent)
        c["latency_ms"].append(latency_ms)
        c["service_ms"].append(service_ms)
        c["status"].append(status)
        c["name"].append(name)
        c["kn"].append(kn)

    def begin_write(self, write: dict[str, Any]) -> None:
        """A write about to be sent: outcome unknown until `end_write` (it may be cut off by the end)."""
        self.pending[id(write)] = write

    def end_write(self, write: dict[str, Any]) -> None:
        self.pending.pop(id(write), None)
        self.writes.append(write)

    def flush_pending(self) -> None:
        """At the end of the run: writes never answered join the model with an unknown outcome."""
        self.writes.extend(self.pending.values())
        self.pending.clear()

    def __len__(self) -> int:
        return len(self.columns["status"])

    def drain(self) -> dict[str, Any]:
        """Everything gathered since the last drain, as plain data (for a message to the master)."""
        out = {"columns": self.columns, "writes": self.writes, "auth_failures": self.auth_failures,
               "bad_reads": self.bad_reads, "converge": self.converge, "unconverged": self.unconverged,
               "keys_used": self.keys_used}
        pending = self.pending
        self.__init__()
        self.pending = pending  # still in flight: shipped once answered (or at the end)
        return out

    def merge(self, part: dict[str, Any]) -> None:
        for name in COLUMNS:
            self.columns[name].extend(part["columns"][name])
        self.writes.extend(part["writes"])
        self.auth_failures.extend(part["auth_failures"])
        self.bad_reads.extend(part["bad_reads"])
        self.converge.extend(part["converge"])
        self.unconverged += part["unconverged"]
        self.keys_used += part["keys_used"]

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        self.flush_pending()
        data = {"meta": {**self.meta, **meta}, "columns": self.columns, "writes": self.writes,
                "auth_failures": self.auth_failures, "bad_reads": self.bad_reads, "converge": self.converge,
                "unconverged": self.unconverged, "keys_used": self.keys_used}
        path.write_text(json.dumps(data, separators=(",", ":")))


def load_raw(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
