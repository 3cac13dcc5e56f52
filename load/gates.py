"""`--fail-if` release gates: `'p99>200ms'`, `'errors>0.1%'`, `'rps<500'`, `'lost>0'`.

Grammar: METRIC OP VALUE[UNIT], OP one of > >= < <=. A gate *fails the run* when its condition
holds (exit status 1). Metrics:
- latency (from the intended start): p50 p90 p99 p99.9 max mean; units ms (default), s, us;
- errors: the share of requests that are errors (`%` or a fraction; a bare number > 1 is a count);
- conflicts: the share of 409 answers (same units as errors);
- rps: completed requests per second; ok-rps: 200s per second;
- lost: lost writes found by the audit (any other audit problem counts too);
- 401: the number of 401 answers.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_LATENCY = {"p50", "p90", "p99", "p99.9", "max", "mean"}
_UNITS_MS = {"": 1.0, "ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001}
_SHARES = {"errors", "conflicts"}
_PLAIN = {"rps", "ok-rps", "lost", "401"}
_PATTERN = re.compile(r"^\s*([a-z0-9.\-]+)\s*(>=|<=|>|<)\s*([0-9]*\.?[0-9]+)\s*([a-zµ%]*)\s*$", re.IGNORECASE)


class GateError(ValueError):
    """A --fail-if expression that cannot be parsed; the message says what is accepted."""


@dataclass(frozen=True)
class Gate:
    text: str
    metric: str
    op: str
    value: float  # latency in ms; shares as fractions; counts as counts
    is_count: bool = False

    def measure(self, summary: dict[str, Any]) -> float:
        if self.metric in _LATENCY:
            return float(summary.get("latency_ms", {}).get(self.metric, float("nan")))
        if self.metric == "errors":
            return float(summary.get("errors", 0) if self.is_count else summary.get("error_rate", 0.0))
        if self.metric == "conflicts":
            counts = summary.get("status_counts", {})
            return float(counts.get("409", 0) if self.is_count else summary.get("rate_409", 0.0))
        if self.metric == "rps":
            return float(summary.get("throughput_rps", 0.0))
        if self.metric == "ok-rps":
            return float(summary.get("ok_rps", 0.0))
        if self.metric == "lost":
            audit = summary.get("audit", {})
            return float(audit.get("lost_writes", 0) + len(audit.get("problems", [])) + len(audit.get("errors", [])))
        if self.metric == "401":
            return float(summary.get("status_counts", {}).get("401", 0))
        raise AssertionError(self.metric)

    def evaluate(self, summary: dict[str, Any]) -> dict[str, Any]:
        measured = self.measure(summary)
        failed = measured != measured or _OPS[self.op](measured, self.value)  # NaN (no data) fails
        return {"gate": self.text, "measured": measured, "failed": bool(failed)}


def parse_gate(text: str) -> Gate:
    match = _PATTERN.match(text)
    if not match:
        raise GateError(f"cannot parse --fail-if {text!r}; use METRIC OP VALUE, e.g. 'p99>200ms' or 'errors>0.1%'")
    metric, op, number, unit = match.group(1).lower(), match.group(2), float(match.group(3)), match.group(4).lower()
    if metric in _LATENCY:
        if unit not in _UNITS_MS:
            raise GateError(f"--fail-if {text!r}: latency unit must be ms, s or us (got {unit!r})")
        return Gate(text, metric, op, number * _UNITS_MS[unit])
    if metric in _SHARES:
        if unit == "%":
            return Gate(text, metric, op, number / 100.0)
        if unit:
            raise GateError(f"--fail-if {text!r}: {metric} takes a percentage, a fraction or a count")
        return Gate(text, metric, op, number, is_count=number > 1)
    if metric in _PLAIN:
        if unit:
            raise GateError(f"--fail-if {text!r}: {metric} takes a plain number")
        return Gate(text, metric, op, number)
    known = ", ".join(sorted(_LATENCY | _SHARES | _PLAIN))
    raise GateError(f"--fail-if {text!r}: unknown metric {metric!r}; known: {known}")


def evaluate(gates: list[Gate], summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [gate.evaluate(summary) for gate in gates]
