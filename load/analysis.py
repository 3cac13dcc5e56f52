"""From raw records to numbers: exact percentiles, time series, status counts, 401 classification.

Percentiles are exact over every recorded latency (nearest rank on the sorted values), not
Locust's bucketed approximations. Latency is counted from each request's intended start (see
recorder.py); `service_ms` (send to answer) is reported beside it.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from typing import Any

import numpy as np

PERCENTILES = (50.0, 90.0, 99.0, 99.9)
# Statuses that are the scenario's normal behaviour for a request name (not errors).
EXPECTED = {"conflict": {409}}
NONCE_WINDOW_S = 600.0


def is_error(status: int, name: str) -> bool:
    return status != 200 and status not in EXPECTED.get(name, ())


def nearest_rank(sorted_values: np.ndarray, p: float) -> float:
    if len(sorted_values) == 0:
        return float("nan")
    rank = max(1, math.ceil(round(p * len(sorted_values) / 100.0, 9)))
    return float(sorted_values[rank - 1])


def latency_stats(values: np.ndarray) -> dict[str, float]:
    ordered = np.sort(values)
    out = {f"p{p:g}": nearest_rank(ordered, p) for p in PERCENTILES}
    out["max"] = float(ordered[-1]) if len(ordered) else float("nan")
    out["mean"] = float(ordered.mean()) if len(ordered) else float("nan")
    return out


def columns(raw: dict[str, Any]) -> dict[str, np.ndarray]:
    c = raw["columns"]
    return {
        "intended": np.asarray(c["intended"], dtype=float),
        "sent": np.asarray(c["sent"], dtype=float),
        "latency_ms": np.asarray(c["latency_ms"], dtype=float),
        "service_ms": np.asarray(c["service_ms"], dtype=float),
        "status": np.asarray(c["status"], dtype=int),
        "name": np.asarray(c["name"], dtype=object),
        "kn": np.asarray(c["kn"], dtype=int),
    }


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    cols = columns(raw)
    n = len(cols["status"])
    meta = raw.get("meta", {})
    if n == 0:
        return {"requests": 0, "errors": 0, "error_rate": 0.0, "throughput_rps": 0.0, "latency_ms": {},
                "service_ms": {}, "status_counts": {}, "by_name": {}, "auth_401": classify_401(raw, cols),
                "meta": meta}
    done = cols["sent"] + cols["service_ms"] / 1000.0
    start, end = float(cols["intended"].min()), float(done.max())
    elapsed = max(end - start, 1e-9)
    errors = np.fromiter((is_error(s, nm) for s, nm in zip(cols["status"], cols["name"], strict=True)), bool, n)
    by_name = {}
    for name in sorted(set(cols["name"])):
        mask = cols["name"] == name
        by_name[name] = {"requests": int(mask.sum()), "errors": int(errors[mask].sum()),
                         "throughput_rps": float(mask.sum() / elapsed),
                         "latency_ms": latency_stats(cols["latency_ms"][mask]),
                         "status_counts": _counts(cols["status"][mask])}
    summary: dict[str, Any] = {
        "requests": n,
        "elapsed_s": elapsed,
        "throughput_rps": n / elapsed,
        "ok_rps": float((cols["status"] == 200).sum() / elapsed),
        "errors": int(errors.sum()),
        "error_rate": float(errors.sum() / n),
        "status_counts": _counts(cols["status"]),
        "rate_409": float((cols["status"] == 409).sum() / n),
        "latency_ms": latency_stats(cols["latency_ms"]),
        "service_ms": latency_stats(cols["service_ms"]),
        "by_name": by_name,
        "auth_401": classify_401(raw, cols),
        "keys_used": raw.get("keys_used", 0),
        "bad_reads": len(raw.get("bad_reads", [])),
        "bad_read_examples": raw.get("bad_reads", [])[:5],
        "meta": meta,
    }
    if raw.get("converge") or raw.get("unconverged"):
        attempts = np.asarray(raw.get("converge") or [0], dtype=float)
        summary["conflict"] = {"converged_writes": len(raw.get("converge", [])),
                               "unconverged_writes": raw.get("unconverged", 0),
                               "attempts_mean": float(attempts.mean()),
                               "attempts_p99": nearest_rank(np.sort(attempts), 99.0),
                               "attempts_max": float(attempts.max())}
    if meta.get("generator_cpu_s") is not None:  # local runs: the Locust process's CPU while users ran
        summary["generator_cpu_ms_per_request"] = 1000.0 * float(meta["generator_cpu_s"]) / n
    rate = float(meta.get("rate") or 0.0)
    summary["model"] = "open" if rate > 0 else "closed"
    if rate > 0:
        summary["offered_rps"] = rate
    return summary


def _counts(statuses: np.ndarray) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(Counter(statuses.tolist()).items())}


def timeseries(raw: dict[str, Any], bin_s: float = 1.0) -> dict[str, Any]:
    """Per-second completions, latency percentiles and status counts (binned by completion time)."""
    cols = columns(raw)
    if len(cols["status"]) == 0:
        return {"t": [], "rps": [], "p50": [], "p90": [], "p99": [], "status": {}}
    done = cols["sent"] + cols["service_ms"] / 1000.0
    t0 = float(cols["intended"].min())
    bins = np.floor((done - t0) / bin_s).astype(int)
    count = int(bins.max()) + 1
    out: dict[str, Any] = {"t": [i * bin_s for i in range(count)], "rps": [], "p50": [], "p90": [], "p99": []}
    statuses = sorted(set(cols["status"].tolist()))
    out["status"] = {str(s): [0] * count for s in statuses}
    order = np.argsort(bins, kind="stable")
    sorted_bins = bins[order]
    edges = np.searchsorted(sorted_bins, np.arange(count + 1))
    for i in range(count):
        idx = order[edges[i]:edges[i + 1]]
        lat = np.sort(cols["latency_ms"][idx])
        out["rps"].append(len(idx) / bin_s)
        for p, key in ((50.0, "p50"), (90.0, "p90"), (99.0, "p99")):
            out[key].append(nearest_rank(lat, p) if len(lat) else float("nan"))
        for s, c in Counter(cols["status"][idx].tolist()).items():
            out["status"][str(s)][i] = c
    return out


def classify_401(raw: dict[str, Any], cols: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Tell nonce-cache exhaustion from other 401s.

    Per signer: every key's 401s start at the same request count on that key and (nearly) everything
    after it is refused: the server's per-signer nonce limit. Server-wide: the 401s start at one moment
    for all keys and almost every later signed request is refused: the server's whole nonce cache is full.
    """
    failures = raw.get("auth_failures", [])
    if not failures:
        return {"count": 0, "classification": "none"}
    cols = cols or columns(raw)
    per_key: dict[str, list[int]] = defaultdict(list)
    for _sent, key_id, kn in failures:
        per_key[key_id].append(kn)
    firsts = sorted(min(v) for v in per_key.values())
    out: dict[str, Any] = {"count": len(failures), "keys_with_401": len(per_key), "first_count_per_key": firsts[:20]}
    dense = all(len(v) >= 0.9 * (max(v) - min(v) + 1) for v in per_key.values())
    if len(firsts) >= 1 and firsts[0] > 1 and firsts[-1] - firsts[0] <= max(2, 0.02 * firsts[0]) and dense:
        limit = firsts[0] - 1
        out["classification"] = "nonce-cache exhaustion (per signer)"
        out["detail"] = (f"{len(failures)} 401s: every refused key was refused from its {firsts[0]}th signed "
                         f"request on, a per-signer nonce limit of {limit} live nonces; rotate keys sooner "
                         "(--rotate-after)")
        out["per_signer_limit"] = limit
        return out
    first_time = min(f[0] for f in failures)
    signed = cols["kn"] > 0
    after = signed & (cols["sent"] >= first_time)
    refused_after = float((cols["status"][after] == 401).mean()) if after.any() else 0.0
    window = signed & (cols["sent"] < first_time) & (cols["sent"] >= first_time - NONCE_WINDOW_S)
    if refused_after >= 0.9 and len(per_key) > 1:
        total = int(window.sum())
        out["classification"] = "nonce-cache exhaustion (server-wide)"
        out["detail"] = (f"{len(failures)} 401s: from one moment on ({refused_after:.0%} of later signed requests "
                         f"refused, across {len(per_key)} keys), after about {total} signed requests in 10 minutes: "
                         "the server's whole nonce cache is full")
        out["server_wide_limit_estimate"] = total
        return out
    out["classification"] = "unclassified"
    out["detail"] = f"{len(failures)} 401s not explained by a nonce-cache limit (keys, caps, clock skew?)"
    return out


def scaling_curve(writes: list[dict[str, Any]], bins: int = 40) -> dict[str, Any]:
    """Append latency and throughput against the log's size (each ack's position, from the audit)."""
    acked = [w for w in writes if w.get("st") == 200 and w.get("index")]
    if not acked:
        return {"size": [], "p50_ms": [], "p99_ms": [], "rps": []}
    sizes = np.asarray([w["index"] for w in acked], dtype=float)
    lat = np.asarray([w.get("lat", np.nan) for w in acked], dtype=float)
    done = np.asarray([w.get("done", np.nan) for w in acked], dtype=float)
    top = sizes.max()
    edges = np.linspace(0, top, bins + 1)
    out: dict[str, Any] = {"size": [], "p50_ms": [], "p99_ms": [], "rps": []}
    for lo, hi in itertools.pairwise(edges):
        mask = (sizes > lo) & (sizes <= hi)
        if mask.sum() < 2:
            continue
        ordered = np.sort(lat[mask][~np.isnan(lat[mask])])
        span = np.nanmax(done[mask]) - np.nanmin(done[mask])
        out["size"].append(float((lo + hi) / 2))
        out["p50_ms"].append(nearest_rank(ordered, 50.0))
        out["p99_ms"].append(nearest_rank(ordered, 99.0))
        out["rps"].append(float(mask.sum() / span) if span > 0 else float("nan"))
    return out
