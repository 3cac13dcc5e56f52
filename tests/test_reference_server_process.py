"""The `serve` command as a process: URL on stdout, clean SIGTERM/SIGINT, startup errors, and a kill -9 crash test."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from refserver_support import ROOT, fresh, spawn_serve

from conformance.client import StarfishClient
from conformance.identities import paired_device, scope
from protocol.hashing import document_hash
from protocol.keys import SigningKey
from protocol.revocation import build_revocation_list


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_url_and_stops_cleanly(sig: int) -> None:
    proc, url = spawn_serve("--port", "0", "--prefix", "/api/v1")
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v1")
        assert httpx.get(url + "/health").json()["ok"] is True
        assert httpx.get(url + "/config").status_code == 200
    finally:
        code = _stop(proc, sig)
    assert code == 0
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


@pytest.mark.parametrize(("args", "message"), [
    (["--config", "/nonexistent.json"], "cannot read config file"),
    (["--store", "redis:x"], "unknown store"),
    (["--prefix", "v1"], "--prefix must start with /"),
])
def test_serve_user_mistakes(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "conformance", "serve", *args], capture_output=True,
                            text=True, cwd=ROOT, timeout=30)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_unsupported_config_feature(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"version": 1, "collections": [
        {"name": "b", "storagePath": "b/{id}", "readRoles": ["public"], "writeRoles": ["public"],
         "encryption": "none", "maxBodyBytes": 10, "bundle": "x"}]}))
    result = subprocess.run([sys.executable, "-m", "conformance", "serve", "--config", str(path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and 'unsupported config feature "bundle"' in result.stderr


def test_revocations_file_and_persistence(tmp_path: Path) -> None:
    root = SigningKey.generate()
    early, late = (paired_device(root, scope(["shared"], ["read", "write"])) for _ in range(2))
    revoked_file = tmp_path / "revocations.json"
    entry = {"sub": early.key.pub, "nonce": early.cert["nonce"], "exp": early.cert["exp"]}
    revoked_file.write_text(json.dumps([build_revocation_list(root, 1, [entry])]))
    db = tmp_path / "store.db"
    proc, url = spawn_serve("--store", f"sqlite:{db}", "--revocations", str(revoked_file))
    doc = f"shared/{fresh()}"
    try:
        with StarfishClient(url) as client:
            assert client.pull(doc, device=early).status_code == 401
            assert client.push(doc, {"a": 1}, device=late).status_code == 200
            late_entry = {"sub": late.key.pub, "nonce": late.cert["nonce"], "exp": late.cert["exp"]}
            response = client.request("POST", "revocations", json=build_revocation_list(root, 2, [entry, late_entry]))
            assert response.status_code == 200
    finally:
        assert _stop(proc) == 0
    # Restart on the same file with the (older) startup list: the stored generation 2 still applies.
    proc, url = spawn_serve("--store", f"sqlite:{db}", "--revocations", str(revoked_file))
    try:
        with StarfishClient(url) as client:
            assert client.pull(doc, device=late).status_code == 401
            assert client.pull(doc, device=paired_device(root, scope(["shared"], ["read"]))).json()["data"] == {"a": 1}
    finally:
        assert _stop(proc) == 0


def test_sqlite_survives_kill_9(tmp_path: Path) -> None:
    """Concurrent writers, kill -9 mid-flight, restart: every write that got a 200 is there."""
    db = tmp_path / "crash.db"
    proc, url = spawn_serve("--store", f"sqlite:{db}")
    run = fresh("crash")
    acked_docs: dict[str, tuple[str, str | None]] = {}  # doc -> (last acknowledged hash, in-flight hash)
    acked_appends: dict[str, list[int]] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def doc_writer(n: int) -> None:
        path = f"guestbook/{run}-{n}"
        current = None
        with StarfishClient(url, timeout=5) as client:
            for i in range(10_000):
                if stop.is_set():
                    return
                data = {"writer": n, "i": i}
                with lock:
                    acked_docs[path] = (acked_docs.get(path, ("", None))[0], document_hash(data))
                try:
                    response = client.push(path, data, base_hash=current)
                except httpx.HTTPError:
                    return
                assert response.status_code == 200, response.text
                current = response.json()["hash"]
                with lock:
                    acked_docs[path] = (current, None)

    def appender(n: int) -> None:
        path = f"walls/{run}-{n}"
        author = paired_device(SigningKey.generate())
        with StarfishClient(url, timeout=5) as client:
            for i in range(10_000):
                if stop.is_set():
                    return
                try:
                    response = client.append(path, {"i": i}, author=author)
                except httpx.HTTPError:
                    return
                assert response.status_code == 200, response.text
                with lock:
                    acked_appends.setdefault(path, []).append(response.json()["timestamp"])

    threads = [threading.Thread(target=doc_writer, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=appender, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    proc.kill()  # SIGKILL while writes are in flight
    proc.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert sum(len(v) for v in acked_appends.values()) > 20 and len(acked_docs) == 3

    proc, url = spawn_serve("--store", f"sqlite:{db}")
    try:
        with StarfishClient(url) as client:
            for path, (acked, in_flight) in acked_docs.items():
                stored = client.pull(path).json()["hash"]
                assert stored in (acked, in_flight), path  # the acked version, or the one cut off mid-response
            for path, stamps in acked_appends.items():
                stored = [e["ts"] for e in client.pull(path, query={"full": "1"}).json()["data"]["items"]]
                assert stored[: len(stamps)] == stamps and len(stored) <= len(stamps) + 1, path
    finally:
        assert _stop(proc) == 0


