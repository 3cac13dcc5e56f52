"""The fuzzing loop: schemathesis cases per operation, signed on the wire, checked, and folded into findings.

For each operation of the schema, Hypothesis draws positive cases (valid per the document) and, with
part of the budget, negative ones. Each case is sent through `case.call(auth=SigningAuth(...))`, so
the signature covers the final bytes (see `conformance.fuzz_auth`), and then validated one check at a
time, so every failure is attributed to exactly one schemathesis check. `{identity}` path parameters
are usually set to the signing identity, so the authenticated success paths (`self` collections)
are reachable; sometimes they keep the generated value, to exercise the 403 path.

A finding is kept per (check, operation): the first failing case becomes its reproducer (the
unsigned case plus the kind of identity that signed it, never a key), the others are counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation

from conformance.fuzz_auth import AUTH_HEADERS, IDENTITY_KIND, IdentityPool, SigningAuth

IDENTITY_PARAM = "identity"
MAX_BODY_TEXT = 2000

# Statuses the protocol lets a server answer to a schema-valid request (409/412/428 on conflicts,
# 413/415 on limits and media types, 429 on rate limits): see ../shared/anchors.md §C row 10.
POSITIVE_EXPECTED = ["2xx", "304", "401", "403", "404", "409", "413", "415", "429"]
NEGATIVE_EXPECTED = ["400", "401", "403", "404", "405", "409", "413", "415", "422", "428", "429"]

CHECK_RULES = {
    "not_a_server_error": "No generated request, valid or not, makes the server answer 5xx",
    "status_code_conformance": "Every status code the server answers is documented for the operation",
    "content_type_conformance": "Every response Content-Type is one the document declares for that status",
    "response_headers_conformance": "Documented response headers are present and match their schemas",
    "response_schema_conformance": "Every response body matches the schema the document gives for it",
    "ignored_auth": "An operation that requires a cap rejects the request without credentials or with broken ones",
    "positive_data_acceptance": "A request that is valid per the document is not rejected as malformed (400/422)",
    "negative_data_rejection": "A request that violates the document is rejected with a 4xx",
    "transport": "The server answers every request (no dropped connection or timeout)",
}


def check_functions() -> dict[str, Callable[..., Any]]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi import checks as oc

    return {"not_a_server_error": not_a_server_error,
            "status_code_conformance": oc.status_code_conformance,
            "content_type_conformance": oc.content_type_conformance,
            "response_headers_conformance": oc.response_headers_conformance,
            "response_schema_conformance": oc.response_schema_conformance,
            "ignored_auth": oc.ignored_auth,
            "positive_data_acceptance": oc.positive_data_acceptance,
            "negative_data_rejection": oc.negative_data_rejection}


def load_schema(document: dict[str, Any], base_url: str) -> Any:
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    config = SchemathesisConfig.from_dict({
        "base-url": base_url,
        "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_EXPECTED},
                   "negative_data_rejection": {"expected-statuses": NEGATIVE_EXPECTED}},
    })
    return schemathesis.openapi.from_dict(document, config=config)


@dataclass
class Finding:
    check: str
    operation: str
    count: int
    detail: str
    reproducer: dict[str, Any]
    exchange: dict[str, Any] | None


@dataclass
class OperationStats:
    operation: str
    examples: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    duration_s: float = 0.0
    error: str = ""


def _jsonable_body(body: Any) -> Any:
    import base64

    from schemathesis.core import NotSet

    if isinstance(body, NotSet):
        return {"$notset": True}
    if isinstance(body, bytes | bytearray):
        return {"$base64": base64.b64encode(bytes(body)).decode("ascii")}
    return body


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    data = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
    text = data[:MAX_BODY_TEXT].decode("utf-8", errors="replace")
    return text + (f"… ({len(data)} bytes)" if len(data) > MAX_BODY_TEXT else "")


def exchange_of(response: Any) -> dict[str, Any]:
    """The wire exchange in the results-stream shape (auth headers shown, they are single-use anyway)."""
    request = response.request
    return {"request": {"method": request.method, "url": request.url, "headers": dict(request.headers),
                        "body": _text(request.body)},
            "response": {"status": response.status_code, "headers": {k: v[0] if isinstance(v, list) else v
                                                                     for k, v in response.headers.items()},
                         "body": _text(response.content)}}


def unsigned_case(case: Any, identity_params: list[str], mode: str, signed: bool = True) -> dict[str, Any]:
    """What a reproducer stores: the case without credentials; `{identity}` params marked for re-filling."""
    params = {k: ("$signer.identity" if k in identity_params else v) for k, v in (case.path_parameters or {}).items()}
    headers = {k: v for k, v in (case.headers or {}).items()
               if k.lower() not in {h.lower() for h in AUTH_HEADERS} and k != "X-Schemathesis-TestCaseId"}
    return {"operation": case.operation.label, "mode": mode, "path_parameters": params, "query": case.query or {},
            "headers": headers, "body": _jsonable_body(case.body), "media_type": case.media_type,
            "signer": IDENTITY_KIND if signed else None}


class Fuzzer:
    def __init__(self, schema: Any, base_url: str, *, max_examples: int, duration_s: float, seed: int,
                 empty_blob_hash: bool = False, negative_share: float = 0.3, pool_size: int = 8,
                 collections: list[str] | None = None, operations: list[str] | None = None,
                 log: Callable[[str], None] = print) -> None:
        self.schema = schema
        self.base_url = base_url
        self.max_examples = max_examples
        self.deadline = time.monotonic() + duration_s
        self.duration_s = duration_s
        self.seed = seed
        self.empty_blob_hash = empty_blob_hash
        self.negative_share = negative_share
        self.pool = IdentityPool(pool_size, collections=collections)
        self.session = requests.Session()
        self.checks = check_functions()
        self.findings: dict[tuple[str, str], Finding] = {}
        self.passes: dict[tuple[str, str], int] = {}
        self.stats: list[OperationStats] = []
        self.load_errors: list[tuple[str, str]] = []
        self.log = log
        self.budget_exhausted = False
        self.only = operations or []

    # ------------------------------------------------------------------ one case

    def execute(self, case: Any, device: Any, mode: str, stats: OperationStats) -> None:
        identity_params: list[str] = []
        negative = mode == "negative"
        if (case.path_parameters or {}).get(IDENTITY_PARAM) == device.identity:
            identity_params.append(IDENTITY_PARAM)
        # A negative case that drops or breaks a credential header is sent as generated, unsigned.
        sign = not (negative and case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER))
        auth = SigningAuth(device, empty_blob_hash=self.empty_blob_hash) if sign else None
        stats.examples += 1
        try:
            response = case.call(base_url=self.base_url, session=self.session, auth=auth, timeout=10)
        except requests.RequestException as exc:
            self._record("transport", case, identity_params, mode, f"{type(exc).__name__}: {exc}", None, sign)
            return
        stats.statuses[response.status_code] = stats.statuses.get(response.status_code, 0) + 1
        transport: dict[str, Any] = {"base_url": self.base_url, "timeout": 10}
        if auth is not None:
            transport["auth"] = auth
        for name, check in self.checks.items():
            try:
                case.validate_response(response, checks=[check], transport_kwargs=transport)
            except AssertionError as exc:  # schemathesis raises a FailureGroup (an AssertionError)
                self._record(name, case, identity_params, mode, _failure_text(exc), response, sign)
            except BaseExceptionGroup as exc:
                self._record(name, case, identity_params, mode, _failure_text(exc), response, sign)
            else:
                key = (name, case.operation.label)
                self.passes[key] = self.passes.get(key, 0) + 1

    def _record(self, check: str, case: Any, identity_params: list[str], mode: str, detail: str,
                response: Any, signed: bool) -> None:
        key = (check, case.operation.label)
        finding = self.findings.get(key)
        if finding is not None:
            finding.count += 1
            return
        self.findings[key] = Finding(check=check, operation=case.operation.label, count=1, detail=detail,
                                     reproducer={**unsigned_case(case, identity_params, mode, signed), "check": check},
                                     exchange=exchange_of(response) if response is not None else None)

    # ------------------------------------------------------------------ the run

    def run(self) -> None:
        from schemathesis.generation import GenerationMode

        operations = []
        for result in self.schema.get_all_operations():
            try:
                operation = result.ok()
            except Exception as exc:  # an operation schemathesis cannot build is a document finding
                self.load_errors.append((str(getattr(exc, "path", "") or "?"), str(exc)[:500]))
                continue
            if not self.only or any(text in operation.label for text in self.only):
                operations.append(operation)
        negatives = max(1, int(self.max_examples * self.negative_share)) if self.negative_share > 0 else 0
        positives = max(1, self.max_examples - negatives)
        for operation in operations:
            stats = OperationStats(operation.label)
            started = time.monotonic()
            for mode, count in ((GenerationMode.POSITIVE, positives), (GenerationMode.NEGATIVE, negatives)):
                if count == 0 or time.monotonic() > self.deadline:
                    self.budget_exhausted = self.budget_exhausted or time.monotonic() > self.deadline
                    continue
                try:
                    self._fuzz_operation(operation, mode, count, stats)
                except Exception as exc:  # generation errors are reported; nothing to negate is not one
                    if type(exc).__name__ != "Unsatisfiable":
                        stats.error = f"{mode.value}: {type(exc).__name__}: {str(exc)[:300]}"
            stats.duration_s = round(time.monotonic() - started, 3)
            self.stats.append(stats)
            error = "  " + stats.error.splitlines()[0][:100] if stats.error else ""
            self.log(f"  {operation.label:60s} {stats.examples:4d} requests "
                     f"{dict(sorted(stats.statuses.items()))}{error}")

    def _fuzz_operation(self, operation: Any, mode: Any, count: int, stats: OperationStats) -> None:
        strategy = self._strategy(operation, mode)
        deadline = self.deadline

        @hypothesis_seed(self.seed)
        @settings(max_examples=count, database=None, deadline=None, derandomize=False,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
                  report_multiple_bugs=False)
        @given(strategy)
        def test(drawn: tuple[Any, int]) -> None:
            if time.monotonic() > deadline:
                return
            device, case = drawn
            self.execute(case, device, mode=mode.value, stats=stats)

        test()

    def _strategy(self, operation: Any, mode: Any) -> Any:
        """(device, case) pairs. For a positive case of an operation with an `{identity}` path parameter, 3 in
        4 draws generate it as the signer's own identity (the authenticated success path); the rest keep a
        generated value (the 403 path). The value is fixed at generation, never patched afterwards, so
        schemathesis's record of what is valid stays true. Negative cases are never patched."""
        from schemathesis.generation import GenerationMode

        devices = self.pool.devices
        generated = st.tuples(st.sampled_from(devices), operation.as_strategy(generation_mode=mode))
        names = {p.name for p in operation.path_parameters}
        if mode != GenerationMode.POSITIVE or IDENTITY_PARAM not in names:
            return generated
        owned = st.sampled_from(devices).flatmap(lambda device: st.tuples(st.just(device), operation.as_strategy(
            generation_mode=mode, path_parameters={IDENTITY_PARAM: device.identity})))
        return st.integers(0, 3).flatmap(lambda choice: generated if choice == 0 else owned)


def _failure_text(exc: BaseException) -> str:
    parts = []
    for failure in getattr(exc, "exceptions", ()) or (exc,):
        title = getattr(failure, "title", "") or type(failure).__name__
        message = getattr(failure, "message", "") or str(failure)
        parts.append(f"{title}: {message}".strip())
    text = "\n".join(parts)
    return text if len(text) <= 1500 else text[:1500] + "…"
