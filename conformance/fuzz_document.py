"""Checks on the target's OpenAPI document itself, before any fuzzing (issue 6, scope 1).

- `fuzz.openapi.valid`: the document passes OpenAPI validation (openapi-spec-validator);
- `fuzz.openapi.security-schemes`: every security requirement names a defined scheme (the official
  generator references an undefined `bearerAuth`, digest §9);
- `fuzz.openapi.routes-documented`: every route of the conformance profile that the server really
  serves (probed without credentials: anything but 404/405 means the route exists) is in the document;
- `fuzz.openapi.operations-load`: schemathesis can build every operation.

Responses that contradict the document are found by the fuzzing checks themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from openapi_spec_validator import validate

from conformance.schema_profile import profile_openapi

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass
class DocumentCheck:
    id: str
    rule: str
    ok: bool | None  # None: could not run
    detail: str
    level: str = "MUST"


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}/]+\}", "{}", path.rstrip("/") or "/")


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for path, item in (document.get("paths") or {}).items():
        if isinstance(item, dict):
            out.update((method.upper(), _normalise(path)) for method in item if method in _METHODS)
    return out


def check_valid(document: dict[str, Any]) -> DocumentCheck:
    rule = "The target's OpenAPI document passes OpenAPI validation"
    try:
        validate(document)
    except Exception as exc:  # the validator raises several exception types, all meaning "invalid"
        return DocumentCheck("fuzz.openapi.valid", rule, False, f"{type(exc).__name__}: {str(exc)[:1200]}")
    return DocumentCheck("fuzz.openapi.valid", rule, True, "")


def check_security_schemes(document: dict[str, Any]) -> DocumentCheck:
    defined = set((document.get("components") or {}).get("securitySchemes") or {})
    missing: dict[str, list[str]] = {}
    requirements = [("(top level)", document.get("security") or [])]
    for path, item in (document.get("paths") or {}).items():
        for method, op in (item or {}).items():
            if method in _METHODS and isinstance(op, dict):
                requirements.append((f"{method.upper()} {path}", op.get("security") or []))
    for where, reqs in requirements:
        for requirement in reqs:
            for name in requirement or {}:
                if name not in defined:
                    missing.setdefault(name, []).append(where)
    detail = "; ".join(f"`{name}` is referenced by {len(places)} operation(s) (e.g. {places[0]}) but not defined "
                       f"in components.securitySchemes" for name, places in sorted(missing.items()))
    if not defined and not missing:
        detail = "no security scheme is defined: the Cap scheme and the X-Starfish headers are not described"
    return DocumentCheck("fuzz.openapi.security-schemes",
                         "Every security requirement names a scheme defined in components.securitySchemes, "
                         "and the Cap scheme is described", not detail, detail)


def _probe(client: httpx.Client, base_url: str, method: str, path: str) -> int | None:
    url = base_url + re.sub(r"\{[^}/]+\}", "fuzzprobe", path)
    try:
        if method == "POST":
            # Unsigned and not JSON: the server can only refuse it, so probing never writes anything.
            return client.post(url, content=b"{}", headers={"Content-Type": "text/plain"}).status_code
        return client.request(method, url).status_code
    except httpx.HTTPError:
        return None


def check_routes(document: dict[str, Any], base_url: str) -> DocumentCheck:
    documented = _operations(document)
    expected = profile_openapi()["paths"]
    undocumented, absent = [], []
    with httpx.Client(timeout=10.0) as client:
        for path, item in expected.items():
            for method in item:
                if (method.upper(), _normalise(path)) in documented:
                    continue
                status = _probe(client, base_url, method.upper(), path)
                if status is None or status in (404, 405):
                    absent.append(f"{method.upper()} {path}")
                else:
                    undocumented.append(f"{method.upper()} {path} (answers {status})")
    detail = ""
    if undocumented:
        detail = f"{len(undocumented)} route(s) the server serves are missing from the document: " + ", ".join(
            undocumented)
    if absent:
        detail += ("\n" if detail else "") + "(not served and not documented, see the conformance suite: " + \
            ", ".join(absent) + ")"
    return DocumentCheck("fuzz.openapi.routes-documented",
                         "Every profile route the server serves (pull, push, list, batch, health) is in its document",
                         not undocumented, detail)


def check_loads(load_errors: list[tuple[str, str]]) -> DocumentCheck:
    detail = "\n".join(f"{where}: {message}" for where, message in load_errors)
    return DocumentCheck("fuzz.openapi.operations-load",
                         "Schemathesis can build a test for every operation of the document", not load_errors, detail)


def validate_document(document: dict[str, Any], base_url: str) -> list[DocumentCheck]:
    return [check_valid(document), check_security_schemes(document), check_routes(document, base_url)]
