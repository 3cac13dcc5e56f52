"""The correctness audit after every run: every acknowledged write must be on the server.

The model is the list of writes the users recorded (`recorder.py`): each with its outcome, 200
(acknowledged), a refusal (4xx, not applied), or unknown (cut off by the end of the run, a transport
error or a 5xx: it may or may not have been applied, and either is accepted).

Documents (push, pull, conflict): every write is chained on the hash of the write before it, so an
acknowledged write W is present when it is the final state, or when a later accepted write was based
on W's hash (the server had W as the current state when it accepted that write). Anything else is a
lost write. The final state must also be one of the writes.

Logs (append, append-chunked, checkpoint-pull): the log is pulled in full; timestamps must be strictly
increasing, every acknowledged element must be there with the timestamp it was acknowledged with,
at the position the acknowledgment's hash names (`hash({"n": position, "last": data})`, digest §3.3),
each user's elements in the order it sent them, and no element may appear that nobody wrote.

The HTTP client here is the standard library's (it runs with or without gevent) and signs every pull
with a fresh nonce, rotating keys like the users do.
"""

from __future__ import annotations

import http.client
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from load.keys import KeyRing
from load.wire import Wire
from protocol.hashing import append_hash, document_hash


@dataclass
class AuditResult:
    acknowledged: int = 0
    unknown_outcome: int = 0
    documents: int = 0
    logs: int = 0
    log_elements: int = 0
    lost: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.lost and not self.problems and not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "lost_writes": len(self.lost), "lost": self.lost, "problems": self.problems,
                "errors": self.errors, "acknowledged_writes": self.acknowledged,
                "unknown_outcome_writes": self.unknown_outcome, "documents_checked": self.documents,
                "logs_checked": self.logs, "log_elements": self.log_elements}

    def headline(self) -> str:
        if self.errors:
            return f"audit incomplete: {self.errors[0]}"
        text = f"lost writes: {len(self.lost)}"
        if self.problems:
            text += f"; {len(self.problems)} other problems"
        return text


class AuditClient:
    """Signed pulls over one keep-alive connection (standard library only)."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.wire = Wire(base_url)
        parts = urlsplit(base_url)
        conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.conn = conn_cls(parts.hostname, parts.port, timeout=timeout)
        self.keys = KeyRing()

    def pull(self, key: str, query: str = "") -> tuple[int, dict[str, Any]]:
        path = self.wire.pull_path(key, query)
        device, _ = self.keys.take()
        headers = {"Host": self.wire.host, **self.wire.signed(device.credential, "GET", path)}
        for attempt in (1, 2):
            try:
                self.conn.request("GET", self.wire.prefix + path, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                if attempt == 2:
                    raise
                device, _ = self.keys.take()
                headers = {"Host": self.wire.host, **self.wire.signed(device.credential, "GET", path)}
        try:
            value = json.loads(body)
        except ValueError:
            value = {}
        return response.status, value if isinstance(value, dict) else {}

    def close(self) -> None:
        self.conn.close()


def _state(write: dict[str, Any]) -> str:
    st = write.get("st")
    if st == 200:
        return "ack"
    if st is None or st == 0 or st >= 500:
        return "unknown"
    return "refused"


def audit(base_url: str, writes: list[dict[str, Any]]) -> AuditResult:
    """Check the server against the writes; annotates log writes with their `index` (1-based position)."""
    result = AuditResult()
    docs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    logs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for write in writes:
        (docs if write["k"] == "doc" else logs)[write["key"]].append(write)
        state = _state(write)
        result.acknowledged += state == "ack"
        result.unknown_outcome += state == "unknown"
    client = AuditClient(base_url)
    try:
        for key, items in docs.items():
            _audit_document(client, key, items, result)
        for key, items in logs.items():
            _audit_log(client, key, items, result)
    except (OSError, http.client.HTTPException) as exc:
        result.errors.append(f"cannot reach {base_url}: {exc}")
    finally:
        client.close()
    return result


def _describe(write: dict[str, Any]) -> str:
    data = write.get("data", {})
    who = f"user {data.get('u')} write #{data.get('s', 0)}"
    extra = f" ts={write['ts']}" if write.get("ts") is not None else ""
    return f"{who}{extra} hash={(write.get('hash') or '')[:16]}"


def _audit_document(client: AuditClient, key: str, writes: list[dict[str, Any]], result: AuditResult) -> None:
    result.documents += 1
    status, body = client.pull(key)
    if status != 200:
        result.errors.append(f"pull {key}: status {status}")
        return
    final = body.get("hash", "")
    acked = [w for w in writes if _state(w) == "ack"]
    unknown = [w for w in writes if _state(w) == "unknown"]
    present = {final} if final else set()
    present.update(w["base"] for w in acked if w.get("base"))
    present.update(w["base"] for w in unknown if w.get("base") and document_hash(w["data"]) == final)
    for write in acked:
        if write.get("hash") not in present:
            result.lost.append(f"document {key}: {_describe(write)} was acknowledged but is neither the final "
                               "state nor the base of a later accepted write")
    if not final:
        if acked:
            result.problems.append(f"document {key}: missing on the server after {len(acked)} acknowledged writes")
        return
    explained = {w.get("hash") for w in acked} | {document_hash(w["data"]) for w in unknown}
    if final not in explained:
        result.problems.append(f"document {key}: final hash {final[:16]} matches no write of this run")
    elif document_hash(body.get("data", {})) != final:
        result.problems.append(f"document {key}: the pulled data does not hash to its hash {final[:16]}")


def _audit_log(client: AuditClient, key: str, writes: list[dict[str, Any]], result: AuditResult) -> None:
    result.logs += 1
    status, body = client.pull(key, "full=true")
    if status != 200:
        result.errors.append(f"pull {key}?full=true: status {status}")
        return
    items = body.get("data", {}).get("items", [])
    result.log_elements += len(items)
    stamps = [item.get("ts") for item in items]
    for position, (a, b) in enumerate(itertools.pairwise(stamps), start=2):
        if not (isinstance(a, int) and isinstance(b, int) and b > a):
            result.problems.append(f"log {key}: element {position} has ts {b} after {a} (not strictly increasing)")
            break
    where: dict[tuple[Any, Any], int] = {}
    for position, item in enumerate(items, start=1):
        data = item.get("data", {}) if isinstance(item, dict) else {}
        ident = (data.get("u"), data.get("s"))
        if ident in where:
            result.problems.append(f"log {key}: element {ident} appears twice (positions {where[ident]}, {position})")
        where.setdefault(ident, position)
    written = {(w["data"].get("u"), w["data"].get("s")): w for w in writes}
    for ident, write in written.items():
        state = _state(write)
        position = where.get(ident)
        if state != "ack":
            if position is not None and state == "refused":
                result.problems.append(f"log {key}: {_describe(write)} was refused ({write['st']}) but is stored")
            continue
        if position is None:
            result.lost.append(f"log {key}: {_describe(write)} was acknowledged but is not in the log")
            continue
        write["index"] = position
        item = items[position - 1]
        if item.get("ts") != write.get("ts"):
            result.problems.append(f"log {key}: {_describe(write)} is stored with ts {item.get('ts')}")
        if write.get("hash") != append_hash(position, write["data"]):
            result.problems.append(f"log {key}: {_describe(write)} is at position {position}, but its acknowledgment "
                                   "names another position (a gap or reordering)")
    strangers = [ident for ident in where if ident not in written]
    if strangers:
        result.problems.append(f"log {key}: {len(strangers)} elements nobody in this run wrote, e.g. {strangers[0]}")
    last_seq: dict[Any, Any] = {}
    for item in items:
        data = item.get("data", {})
        user, seq = data.get("u"), data.get("s")
        if user in last_seq and isinstance(seq, int) and seq <= last_seq[user]:
            result.problems.append(f"log {key}: user {user}'s write #{seq} is stored after its #{last_seq[user]}")
            break
        last_seq[user] = seq
