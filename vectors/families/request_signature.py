"""Family `request-signature`: the per-request Ed25519 signature (digest §5.3(b), §5.4).

Upstream shape: `signer`, `wrongSignerPub`, `cases[{label, method, pathAndQuery, bodyUtf8, host,
verifyHost?, tsMs, nonceBase64, canonicalSigningInput, signatureBase64, verifyPubkey?,
expectVerify}]`. The canonical input is always built from the signing-side fields; the verifier
rebuilds it from the `verify*` fields where present. Our generated cases add `verifyPathAndQuery`,
`verifyBodyUtf8`, `verifyMethod`, `verifyTsMs`, and, to exercise the server-side rules, the raw
`verifyHostHeader` + `verifyScheme` (which must reduce to `verifyHost`) and the bytes actually sent,
`sentBodyUtf8` + `contentType` (which must reduce to `verifyBodyUtf8`).

Older generations: Gen A had no `starfish-req-v1\\n` domain tag; Gen B had `"alg":"ed25519"` inside
the signed JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from protocol.constants import REQUEST_DOMAIN
from protocol.encoding import EncodingError, b64decode, b64encode
from protocol.keys import SigningKey, verify_ed25519
from protocol.signing import request_signing_input, signed_body, signing_host, verify_request_signature
from vectors import sigmutations
from vectors.families._common import Check, each_case, require, resolve_pub
from vectors.fixtures import TS_MS, nonce_b64, signing_key
from vectors.results import STALE, CaseResult, case_result
from vectors.wycheproof import INVALID, VALID, case, header, number

NAME = "request-signature"
FILENAME = "request-signature.json"


def detect(doc: Any) -> bool:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cases"), list):
        return False
    return any(isinstance(c, Mapping) and "pathAndQuery" in c and "method" in c for c in doc["cases"])


def _stale_reason(canonical: str) -> str | None:
    if not canonical.startswith(REQUEST_DOMAIN):
        return "canonical signing input has no 'starfish-req-v1\\n' domain tag (Gen A, before 3.0.0a72)"
    try:
        signed = json.loads(canonical[len(REQUEST_DOMAIN) :])
    except ValueError:
        return None
    if isinstance(signed, dict) and "alg" in signed:
        return 'canonical signing input carries an "alg" key inside the signed JSON (Gen B, before 3.0.0a72)'
    return None


def verify_inputs(item: Mapping[str, Any]) -> dict[str, Any]:
    """The request as the verifier sees it: the signing fields overridden by any `verify*` field."""
    host = item["verifyHost"] if "verifyHost" in item else item["host"]
    return {
        "method": item.get("verifyMethod", item["method"]),
        "path_and_query": item.get("verifyPathAndQuery", item["pathAndQuery"]),
        "body": item.get("verifyBodyUtf8", item["bodyUtf8"]),
        "host": host,
        "ts_ms": item.get("verifyTsMs", item["tsMs"]),
        "nonce": item["nonceBase64"],
    }


def _replay_case(doc: Mapping[str, Any], item: Mapping[str, Any], cid: str) -> CaseResult:
    canonical = require(item, "canonicalSigningInput", str)
    signer_pub = resolve_pub(item.get("verifyPubkey", require(doc, "signer", Mapping).get("edPub")), doc)
    stale = _stale_reason(canonical)
    if stale:
        try:
            ok = verify_ed25519(signer_pub, b64decode(item["signatureBase64"]), canonical.encode("utf-8"))
        except (KeyError, TypeError, EncodingError):
            ok = False
        evidence = "its signature verifies over the file's canonical input" if ok else "its signature does not verify"
        return case_result(NAME, cid, STALE, f"{stale}; {evidence}")
    check = Check()
    ours = request_signing_input(
        require(item, "method", str),
        require(item, "pathAndQuery", str),
        require(item, "bodyUtf8", str).encode("utf-8"),
        host=require(item, "host", str),
        ts_ms=require(item, "tsMs", int),
        nonce=require(item, "nonceBase64", str),
    )
    check.equal("canonical signing input", ours, canonical)
    seen = verify_inputs(item)
    if "verifyHostHeader" in item:
        reduced = signing_host(require(item, "verifyHostHeader", str), item.get("verifyScheme", "http"))
        check.equal("host binding from verifyHostHeader", reduced, seen["host"])
    if "sentBodyUtf8" in item:
        hashed = signed_body(
            seen["method"], item.get("contentType"), require(item, "sentBodyUtf8", str).encode("utf-8")
        )
        check.equal("signed body from sentBodyUtf8/contentType", hashed.decode("utf-8"), seen["body"])
    verified = verify_request_signature(
        signer_pub,
        require(item, "signatureBase64", str),
        seen["method"],
        seen["path_and_query"],
        seen["body"].encode("utf-8"),
        host=seen["host"],
        ts_ms=seen["ts_ms"],
        nonce=seen["nonce"],
    )
    check.equal("signature verifies", verified, require(item, "expectVerify", bool))
    return check.result(NAME, cid)


def replay(doc: Any) -> list[CaseResult]:
    return each_case(NAME, "cases", doc["cases"], lambda item, cid: _replay_case(doc, item, cid))


# ---------------------------------------------------------------------------------------------------------------
# Generation


class GeneratorError(AssertionError):
    """A generated case does not verify the way the generator meant it to."""


SIGNER = signing_key("alice-device-1")
WRONG = signing_key("mallory")
BODY = '{"hello":"world","n":7}'


def _case(
    label: str,
    flags: list[str],
    expect: bool,
    *,
    method: str = "GET",
    path: str = "/pull/notes/alice/0?checkpoint=0",
    body: str = "",
    host: str = "api.example.com",
    signer: SigningKey = SIGNER,
    mutate: Any = None,
    verify: dict[str, Any] | None = None,
    official: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ts = TS_MS + 1000 * len(label)
    nonce = nonce_b64("req:" + label)
    canonical = request_signing_input(method, path, body.encode("utf-8"), host=host, ts_ms=ts, nonce=nonce)
    signature = b64encode(signer.sign(canonical.encode("utf-8")))
    if mutate is not None:
        signature = mutate(signature)
    fields: dict[str, Any] = {
        "method": method,
        "pathAndQuery": path,
        "bodyUtf8": body,
        "host": host,
    }
    extra = dict(verify or {})
    if "verifyHostHeader" in extra:
        extra["verifyHost"] = signing_host(extra["verifyHostHeader"], extra.get("verifyScheme", "http"))
    if "sentBodyUtf8" in extra:
        seen_method = extra.get("verifyMethod", method)
        sent = extra["sentBodyUtf8"].encode("utf-8")
        extra["verifyBodyUtf8"] = signed_body(seen_method, extra.get("contentType"), sent).decode("utf-8")
    if "verifyTsDeltaMs" in extra:
        extra["verifyTsMs"] = ts + extra.pop("verifyTsDeltaMs")
    if "verifyHost" in extra:
        fields["verifyHost"] = extra.pop("verifyHost")
    fields.update(tsMs=ts, nonceBase64=nonce, canonicalSigningInput=canonical, signatureBase64=signature)
    if signer is not SIGNER:
        fields["verifyPubkey"] = "alice_dev_1.edPub"
    fields.update(extra)
    seen = verify_inputs(fields)
    verified = verify_request_signature(
        SIGNER.pub,
        signature,
        seen["method"],
        seen["path_and_query"],
        seen["body"].encode("utf-8"),
        host=seen["host"],
        ts_ms=seen["ts_ms"],
        nonce=seen["nonce"],
    )
    if verified != expect:
        raise GeneratorError(f"request-signature/{label}: meant to verify {expect}, kit says {verified}")
    fields["expectVerify"] = verified
    if official is not None:
        fields["officialPython"] = official
        flags = [*flags, "OfficialPythonDiverges"]
    return case(label, flags, VALID if verified else INVALID, **fields)


def _cases() -> list[dict[str, Any]]:
    push = {"method": "POST", "path": "/push/notes/alice/0", "body": BODY}
    return [
        _case("pull-empty-body", ["Baseline"], True),
        _case("push-json-body", ["Baseline"], True, **push),
        _case("wrong-signer", ["WrongKey"], False, signer=WRONG, **push),
        _case("host-mismatch", ["HostMismatch"], False, verify={"verifyHost": "evil.example.com"}, **push),
        _case("signature-flipped-bit", ["FlippedBit"], False, mutate=sigmutations.flip_bit, **push),
        _case("signature-non-canonical-s", ["NonCanonicalS"], False, mutate=sigmutations.non_canonical_s, **push),
        _case("signature-truncated", ["TruncatedSignature"], False, mutate=sigmutations.truncated, **push),
        _case("signature-empty", ["EmptySignature"], False, mutate=lambda _sig: "", **push),
        _case(
            "signature-with-space",
            ["LenientBase64"],
            False,
            mutate=sigmutations.with_space,
            official={"expectVerify": True},
            **push,
        ),
        _case(
            "host-default-port-80-dropped",
            ["HostDefaultPort"],
            True,
            verify={"verifyHostHeader": "api.example.com:80", "verifyScheme": "http"},
        ),
        _case(
            "host-default-port-80-kept-by-signer",
            ["HostDefaultPort"],
            False,
            host="api.example.com:80",
            verify={"verifyHostHeader": "api.example.com:80", "verifyScheme": "http"},
        ),
        _case(
            "host-port-8000-kept",
            ["HostDefaultPort"],
            True,
            host="127.0.0.1:8000",
            verify={"verifyHostHeader": "127.0.0.1:8000", "verifyScheme": "http"},
        ),
        _case(
            "host-port-8000-dropped-by-signer",
            ["HostDefaultPort"],
            False,
            host="127.0.0.1",
            verify={"verifyHostHeader": "127.0.0.1:8000", "verifyScheme": "http"},
        ),
        _case(
            "host-https-443-dropped",
            ["HostDefaultPort"],
            True,
            verify={"verifyHostHeader": "api.example.com:443", "verifyScheme": "https"},
        ),
        _case(
            "host-443-over-http-kept",
            ["HostDefaultPort"],
            True,
            host="example.com:443",
            verify={"verifyHostHeader": "example.com:443", "verifyScheme": "http"},
        ),
        _case(
            "host-uppercase-header",
            ["HostCase"],
            True,
            verify={"verifyHostHeader": "API.Example.COM", "verifyScheme": "http"},
        ),
        _case(
            "host-uppercase-signed-verbatim",
            ["HostCase"],
            False,
            host="API.Example.COM",
            verify={"verifyHostHeader": "API.Example.COM", "verifyScheme": "http"},
        ),
        _case("mount-prefix-signed", ["MountPrefix"], True, path="/v1/pull/notes/alice/0?checkpoint=0"),
        _case(
            "mount-prefix-missing",
            ["MountPrefix"],
            False,
            verify={"verifyPathAndQuery": "/v1/pull/notes/alice/0?checkpoint=0"},
        ),
        _case(
            "query-reordered",
            ["QueryOrder"],
            False,
            path="/pull/events?checkpoint=0&limit=5",
            verify={"verifyPathAndQuery": "/pull/events?limit=5&checkpoint=0"},
        ),
        _case(
            "body-one-byte-changed",
            ["BodyTampered"],
            False,
            verify={"verifyBodyUtf8": '{"hello":"world","n":8}'},
            **push,
        ),
        _case(
            "get-with-body-signed-over-body",
            ["GetBodyIgnored"],
            False,
            body='{"x":1}',
            verify={"sentBodyUtf8": '{"x":1}'},
        ),
        _case("get-with-body-signed-empty", ["GetBodyIgnored"], True, verify={"sentBodyUtf8": '{"x":1}'}),
        _case(
            "blob-upload-signed-empty",
            ["BlobBodyRule"],
            True,
            method="POST",
            path="/push/avatars/alice",
            verify={"contentType": "image/png", "sentBodyUtf8": "PNG-BYTES"},
        ),
        _case(
            "blob-upload-signed-over-body",
            ["BlobBodyRule"],
            False,
            method="POST",
            path="/push/avatars/alice",
            body="PNG-BYTES",
            verify={"contentType": "image/png", "sentBodyUtf8": "PNG-BYTES"},
        ),
        _case(
            "json-with-charset-hashes-body",
            ["BlobBodyRule"],
            True,
            verify={"contentType": "application/json; charset=utf-8", "sentBodyUtf8": BODY},
            **push,
        ),
        _case("method-changed", ["MethodChanged"], False, verify={"verifyMethod": "PUT"}, **push),
        _case("timestamp-changed", ["TimestampChanged"], False, verify={"verifyTsDeltaMs": 1}, **push),
        _case("non-ascii-path", ["NonAsciiPath"], True, path="/pull/notes/café/0"),
    ]


def generate() -> dict[str, Any]:
    cases = _cases()
    number([cases])
    return {
        **header(
            "Per-request Ed25519 signatures for Starfish v3 (digest §5.3(b), §5.4). Upstream request-signature.json "
            "shape. The canonical input is built from the signing fields; verification uses the verify* fields "
            "where present. verifyHostHeader/verifyScheme reduce to verifyHost by the server's host rule, and "
            "sentBodyUtf8/contentType reduce to verifyBodyUtf8 by the server's body rule.",
            cases,
        ),
        "signer": {"label": "alice_dev_1", "edPub": SIGNER.pub, "edPriv": SIGNER.private_hex()},
        "wrongSignerPub": {"label": "mallory", "edPub": WRONG.pub},
        "cases": cases,
    }
