"""The load command's pure parts: gates, durations, mixes, percentiles, 401 classification, the audit's rules."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.cli import main
from load.analysis import classify_401, latency_stats, nearest_rank, summarize
from load.cli import is_loopback, parse_duration
from load.gates import GateError, evaluate, parse_gate
from load.scenarios import assign, parse_mix


def test_gates_parse_units_and_shares():
    assert parse_gate("p99>200ms").value == 200
    assert parse_gate("p99.9 >= 1.5s").value == 1500
    assert parse_gate("p50<300us").value == pytest.approx(0.3)
    errors = parse_gate("errors>0.1%")
    assert (errors.metric, errors.op, errors.value, errors.is_count) == ("errors", ">", 0.001, False)
    assert parse_gate("errors>5").is_count
    assert parse_gate("rps<500").value == 500
    for bad in ("p99>>200ms", "p42>1ms", "p99>1parsec", "errors>1ms", "rps<5%", ""):
        with pytest.raises(GateError):
            parse_gate(bad)


def test_gates_fail_when_the_condition_holds():
    summary = {"latency_ms": {"p99": 250.0}, "error_rate": 0.0005, "errors": 3, "throughput_rps": 800.0,
               "status_counts": {"200": 10}, "audit": {"lost_writes": 0, "problems": [], "errors": []}}
    verdicts = evaluate([parse_gate(t) for t in ("p99>200ms", "errors>0.1%", "rps<500", "lost>0", "errors>2")],
                        summary)
    assert [v["failed"] for v in verdicts] == [True, False, False, False, True]
    lost = evaluate([parse_gate("lost>0")], {**summary, "audit": {"lost_writes": 1, "problems": [], "errors": []}})
    assert lost[0]["failed"]
    assert evaluate([parse_gate("p99>1ms")], {"latency_ms": {}})[0]["failed"]  # no data never passes


def test_durations_and_loopback():
    assert parse_duration("30s") == 30 and parse_duration("2m") == 120 and parse_duration("1.5") == 1.5
    for bad in ("", "soon", "-3s", "0"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert is_loopback("http://127.0.0.1:8000/v1") and is_loopback("http://[::1]:80") and is_loopback("http://localhost")
    assert not is_loopback("http://example.com:8000/v1") and not is_loopback("http://10.0.0.5/v1")


def test_mix_weights_are_followed_by_every_prefix():
    mix = parse_mix("push=3,pull=1")
    names = [assign(mix, i) for i in range(8)]
    assert names.count("push") == 6 and names.count("pull") == 2
    assert names[:4].count("push") == 3
    for bad in ("", "push=0", "nope=1", "push=x"):
        with pytest.raises(ValueError):
            parse_mix(bad)


def test_percentiles_are_exact_nearest_rank():
    values = np.arange(1, 1001, dtype=float)  # 1..1000 ms
    stats = latency_stats(values)
    assert (stats["p50"], stats["p90"], stats["p99"], stats["p99.9"], stats["max"]) == (500, 900, 990, 999, 1000)
    assert nearest_rank(np.array([7.0]), 99.9) == 7.0


def _raw(statuses, kns, failures, names=None):
    n = len(statuses)
    return {"columns": {"intended": [float(i) for i in range(n)], "sent": [float(i) for i in range(n)],
                        "latency_ms": [1.0] * n, "service_ms": [1.0] * n, "status": statuses,
                        "name": names or ["push"] * n, "kn": kns},
            "writes": [], "auth_failures": failures, "bad_reads": [], "converge": [], "unconverged": 0}


def test_401_burst_after_a_fixed_count_per_key_is_nonce_exhaustion():
    statuses, kns, failures = [], [], []
    for key in ("a", "b", "c"):
        for kn in range(1, 81):
            status = 401 if kn > 50 else 200
            statuses.append(status)
            kns.append(kn)
            if status == 401:
                failures.append([float(len(statuses)), key, kn])
    verdict = classify_401(_raw(statuses, kns, failures))
    assert verdict["classification"] == "nonce-cache exhaustion (per signer)"
    assert verdict["per_signer_limit"] == 50


def test_scattered_401s_are_not_called_nonce_exhaustion():
    statuses = [200, 401, 200, 200, 401, 200, 200, 200]
    kns = [1, 2, 3, 1, 2, 3, 4, 5]
    failures = [[1.0, "a", 2], [4.0, "b", 9]]
    assert classify_401(_raw(statuses, kns, failures))["classification"] == "unclassified"


def test_summary_counts_expected_409s_of_conflict_as_normal():
    raw = _raw([200, 409, 409, 500], [1, 2, 3, 4], [], names=["conflict", "conflict", "push", "push"])
    summary = summarize(raw)
    assert summary["errors"] == 2 and summary["status_counts"] == {"200": 1, "409": 2, "500": 1}


def test_remote_target_is_refused_without_allow_remote(capsys):
    code = main(["load", "--target", "url:http://example.com:8000/v1", "--duration", "1s"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "not on loopback" in err and "--allow-remote" in err


def test_bad_gate_is_a_usage_error(capsys):
    assert main(["load", "--fail-if", "p99 is high"]) == 2
    assert "cannot parse --fail-if" in capsys.readouterr().err


def _parse_request(data: bytes) -> tuple[str, str, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    line, *lines = head.decode("latin-1").split("\r\n")
    method, target, version = line.split(" ")
    assert version == "HTTP/1.1"
    headers = {}
    for text in lines:
        name, _, value = text.partition(": ")
        headers[name.lower()] = value
    return method, target, headers, body


def test_wire_request_is_signed_over_exactly_the_bytes_sent():
    from load.keys import DeviceKey
    from load.wire import JSON, Wire
    from protocol.signing import (
        HEADER_NONCE,
        HEADER_SIG,
        HEADER_TS,
        signed_body,
        signing_host,
        verify_request_signature,
    )

    wire, key = Wire("http://127.0.0.1:8123/v1"), DeviceKey()
    body = b'{"data":{"a":1},"baseHash":null}'
    first = wire.request(key.credential, "POST", "/push/shared/x", body)
    second = wire.request(key.credential, "POST", "/push/shared/x", body)
    method, target, headers, sent = _parse_request(first)
    assert (method, target, sent) == ("POST", "/v1/push/shared/x", body)
    assert headers["host"] == "127.0.0.1:8123" and headers["content-type"] == JSON
    assert int(headers["content-length"]) == len(body)
    assert verify_request_signature(key.key.pub, headers[HEADER_SIG.lower()], method, target,
                                    signed_body(method, JSON, sent), host=signing_host(headers["host"]),
                                    ts_ms=int(headers[HEADER_TS.lower()]), nonce=headers[HEADER_NONCE.lower()])
    assert _parse_request(second)[2][HEADER_NONCE.lower()] != headers[HEADER_NONCE.lower()]  # fresh nonce
    method, target, headers, sent = _parse_request(wire.request(key.credential, "GET", "/pull/shared/x?a=1"))
    assert (method, target, sent) == ("GET", "/v1/pull/shared/x?a=1", b"")
    assert "content-length" not in headers and "content-type" not in headers


def test_lean_client_keeps_alive_reads_lengths_and_chunks_and_reconnects():
    import socket
    import threading

    from load.leanhttp import LeanConnection

    answers = [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
               b"HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
               b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
               b"HTTP/1.1 204 No Content\r\n\r\n"]
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve() -> None:
        pending = list(answers)
        while pending:
            conn, _ = listener.accept()
            accepted.append(conn)
            with conn:
                while pending:
                    if not conn.recv(65536):
                        break
                    answer = pending.pop(0)
                    conn.sendall(answer)
                    if b"Connection: close" in answer:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = LeanConnection("127.0.0.1", listener.getsockname()[1], timeout=5)
    request = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"
    assert client.request(request) == (200, b"hello")
    assert client.request(request) == (409, b"abcde")
    assert client.request(request) == (200, b"ok")
    assert client.sock is None  # the server closed it: the next request opens a new connection
    assert client.request(request) == (204, b"")
    thread.join(5)
    assert len(accepted) == 2
    client.close()
    listener.close()
