"""(h) Official parity: every case of OUR generated vectors, answered by the official starfish-protocol 3.0.0a72.

A case flagged OfficialPythonDiverges carries `officialPython`: the official answer for the fields that
differ (same field names). Those cases assert the documented disagreement exactly, so this file fails
if the official behaviour changes in either direction. vectors/README.md explains each finding.

Identity derivation and keyring wraps have no official counterpart installed (starfish_identities and
starfish_keyring are not dependencies), so they are covered only by our own replay.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.official

official = pytest.importorskip("starfish_protocol", reason="the official package is a test extra")

from starfish_protocol import append_author as o_author  # noqa: E402
from starfish_protocol import cap as o_cap  # noqa: E402
from starfish_protocol import crypto as o_crypto  # noqa: E402
from starfish_protocol import encoding as o_encoding  # noqa: E402
from starfish_protocol import hash as o_hash  # noqa: E402
from starfish_protocol import merge as o_merge  # noqa: E402
from starfish_protocol import request_signing as o_req  # noqa: E402
from starfish_protocol import revocation as o_rev  # noqa: E402
from starfish_protocol.suites import ed25519 as o_ed25519  # noqa: E402

from protocol.canonical_json import stable_stringify  # noqa: E402
from protocol.constants import UNSAFE_KEYS  # noqa: E402

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
EXCEPTIONS = {"OverflowError": OverflowError, "UnicodeEncodeError": UnicodeEncodeError}
DIVERGES = "OfficialPythonDiverges"


def _load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _params(name: str, *path: str) -> list[Any]:
    node: Any = _load(name)
    for key in path:
        node = node[key]
    return [pytest.param(item, id=f"{item['tcId']}-{item.get('label', '')}") for item in node]


def _answer(item: dict[str, Any], field: str) -> Any:
    """The official answer the vector documents for `field`: the divergent value, else the vector's own."""
    return item.get("officialPython", {}).get(field, item[field])


def _check_divergence_flag(item: dict[str, Any]) -> None:
    assert ("officialPython" in item) == (DIVERGES in item["flags"])


# ------------------------------------------------------------------------------------------------ hash.json


@pytest.mark.parametrize("item", _params("hash.json", "stableStringify"))
def test_stable_stringify(item: dict[str, Any]) -> None:
    _check_divergence_flag(item)
    documented = item.get("officialPython", {})
    if "raises" in documented:
        with pytest.raises(EXCEPTIONS[documented["raises"]]):
            o_hash.stable_stringify(item["input"])
        return
    assert o_hash.stable_stringify(item["input"]) == _answer(item, "expected")
    if documented:
        assert documented["expected"] != item["expected"]


@pytest.mark.parametrize("item", _params("hash.json", "computeHash"))
def test_compute_hash(item: dict[str, Any]) -> None:
    _check_divergence_flag(item)
    documented = item.get("officialPython", {})
    if "raises" in documented:
        with pytest.raises(EXCEPTIONS[documented["raises"]]):
            o_hash.compute_hash(item["input"])
        return
    assert o_hash.stable_stringify(item["input"]) == _answer(item, "stableJson")
    assert o_hash.compute_hash(item["input"]) == _answer(item, "expectedHash")


def test_unsafe_keys_match() -> None:
    assert set(o_merge.UNSAFE_KEYS) == set(UNSAFE_KEYS)


@pytest.mark.parametrize("item", _params("hash.json", "sanitize"))
def test_sanitized_hash(item: dict[str, Any]) -> None:
    assert o_hash.compute_hash(item["sanitized"]) == item["expectedHash"]


@pytest.mark.parametrize("item", _params("hash.json", "appendHash"))
def test_append_hash(item: dict[str, Any]) -> None:
    assert o_hash.compute_hash({"n": item["count"], "last": item["last"]}) == item["expectedHash"]


# ------------------------------------------------------------------------------------------------ cap-cert.json


def _cap_entries() -> list[Any]:
    doc = _load("cap-cert.json")
    return [
        pytest.param(doc["issuer"], name, e, id=f"{e['tcId']}-{name}")
        for name, e in doc.items()
        if isinstance(e, dict) and "cert" in e
    ]


@pytest.mark.parametrize(("issuer", "name", "entry"), _cap_entries())
def test_cap_cert(issuer: dict[str, Any], name: str, entry: dict[str, Any]) -> None:
    _check_divergence_flag(entry)
    cert = entry["cert"]
    assert o_cap.cap_cert_canonical_signing_input(cert) == entry["canonicalSigningInput"]
    assert o_cap.verify_cap_cert_signature(cert) is _answer(entry, "expectVerify")
    try:
        o_cap.assert_cap_cert_well_formed(cert)
        well_formed = "ok"
    except ValueError as exc:
        well_formed = exc.args[0]
    assert well_formed == _answer(entry, "wellFormedReason")
    verdict = o_cap.verify_cap_cert(cert, now=entry["nowSec"])
    assert ("ok" if verdict["ok"] else verdict["reason"]) == _answer(entry, "expectReason")
    if entry["result"] == "valid":
        # A deterministic Ed25519 signature: the official signer reproduces it byte for byte.
        assert o_cap.sign_cap_cert(cert, issuer["edPriv"])["sig"] == cert["sig"]


# ----------------------------------------------------------------------------------------- request-signature.json


@pytest.mark.parametrize("item", _params("request-signature.json", "cases"))
def test_request_signature(item: dict[str, Any]) -> None:
    _check_divergence_flag(item)
    doc = _load("request-signature.json")
    body = item["bodyUtf8"].encode("utf-8")
    canonical = o_req.request_signing_canonical_input(
        item["method"], item["pathAndQuery"], body, item["tsMs"], item["nonceBase64"], host=item["host"]
    )
    assert canonical == item["canonicalSigningInput"]
    signature = o_req.RequestSignature(
        sig=item["signatureBase64"], ts=item.get("verifyTsMs", item["tsMs"]), nonce=item["nonceBase64"]
    )
    verified = o_req.verify_request_signature(
        item.get("verifyMethod", item["method"]),
        item.get("verifyPathAndQuery", item["pathAndQuery"]),
        item.get("verifyBodyUtf8", item["bodyUtf8"]).encode("utf-8"),
        signature,
        doc["signer"]["edPub"],
        host=item.get("verifyHost", item["host"]),
    )
    assert verified is _answer(item, "expectVerify")
    if item["result"] == "valid":
        remade = o_req.sign_request(
            item["method"],
            item["pathAndQuery"],
            body,
            doc["signer"]["edPriv"],
            host=item["host"],
            ts=item["tsMs"],
            nonce=base64.b64decode(item["nonceBase64"]),
        )
        assert remade.sig == item["signatureBase64"]


# ------------------------------------------------------------------------------------------------ author proofs

_AUTHOR_API = {
    "append-author.json": (
        o_author.append_author_canonical_input,
        o_author.verify_append_author,
        o_author.sign_append_author,
    ),
    "doc-author.json": (o_author.doc_author_canonical_input, o_author.verify_doc_author, o_author.sign_doc_author),
}


def _author_params() -> list[Any]:
    out = []
    for name in _AUTHOR_API:
        doc = _load(name)
        out += [pytest.param(name, doc, item, id=f"{name}-{item['tcId']}-{item['label']}") for item in doc["cases"]]
    return out


@pytest.mark.parametrize(("name", "doc", "item"), _author_params())
def test_author_proof(name: str, doc: dict[str, Any], item: dict[str, Any]) -> None:
    _check_divergence_flag(item)
    canonical_input, verify, sign = _AUTHOR_API[name]
    assert canonical_input(item["documentKey"], item["data"]) == _answer(item, "canonicalSigningInput")
    verified = verify(
        item.get("verifyDocumentKey", item["documentKey"]),
        item.get("verifyData", item["data"]),
        doc["signer"]["edPub"],
        item["authorSignature"],
    )
    assert verified is _answer(item, "expectVerify")
    if item["result"] == "valid" and "officialPython" not in item:
        signed = sign(item["documentKey"], item["data"], doc["signer"]["edPub"], doc["signer"]["edPriv"])
        assert signed["authorSignature"] == item["authorSignature"]


# ------------------------------------------------------------------------------------------------ revocation-list.json


@pytest.mark.parametrize("item", _params("revocation-list.json", "cases"))
def test_revocation_list(item: dict[str, Any]) -> None:
    doc = _load("revocation-list.json")
    revocation_list = item["revocationList"]
    canonical = o_rev.revocation_list_canonical_signing_input(revocation_list)
    assert canonical == item["canonicalSigningInput"]
    signature = base64.b64decode(revocation_list["sig"])
    assert o_ed25519.verify(signature, canonical.encode("utf-8"), revocation_list["iss"]) is item["expectVerify"]
    if item["result"] == "valid":
        rebuilt = o_rev.build_revocation_list(
            doc["issuer"]["edPub"],
            doc["issuer"]["edPriv"],
            revocation_list["generation"],
            revocation_list["revoked"],
            revocation_list.get("revokedSubjects"),
        )
        assert rebuilt == revocation_list


# ------------------------------------------------------------------------------------------------ base64url.json


@pytest.mark.parametrize("item", _params("base64url.json", "base64url", "cases"))
def test_base64url_text(item: dict[str, Any]) -> None:
    encoded = o_encoding.to_base64url(item["input"])
    if "base64url" in item:
        assert encoded == item["base64url"]
        assert o_encoding.from_base64url(item["base64url"]) == item["input"]
    for char in item.get("base64url_must_not_contain_chars", []):
        assert char not in encoded


@pytest.mark.parametrize("item", _params("base64url.json", "link_fragment", "cases"))
def test_link_fragment(item: dict[str, Any]) -> None:
    _check_divergence_flag(item)
    url = o_encoding.encode_link_fragment(item["origin"], item["path"], item["token"])
    # API difference: the official helper returns the whole link, `<origin>/<path>#<fragment>`.
    prefix = item["origin"].rstrip("/") + "/" + item["path"].lstrip("/") + "#"
    assert url.startswith(prefix)
    assert url[len(prefix) :] == _answer(item, "fragment")
    token = o_encoding.decode_link_fragment(item["fragment"], lambda value: value)
    assert stable_stringify(token) == stable_stringify(item["token"])


@pytest.mark.parametrize("item", _params("base64url.json", "base64url_decode_rejects", "cases"))
def test_base64url_rejects(item: dict[str, Any]) -> None:
    _check_divergence_flag(item)
    if "officialPython" in item:
        assert o_encoding.from_base64url(item["base64url"]) == item["officialPython"]["decoded"]
    else:
        with pytest.raises(ValueError):
            o_encoding.from_base64url(item["base64url"])


# ------------------------------------------------------------------------------------------------ crypto.json


def _crypto_params() -> list[Any]:
    doc = _load("crypto.json")
    return [pytest.param(doc, id="primary")] + [pytest.param(c, id=f"{c['tcId']}-{c['label']}") for c in doc["cases"]]


@pytest.mark.parametrize("item", _crypto_params())
def test_crypto_derive_key(item: dict[str, Any]) -> None:
    derived = o_crypto.derive_key(item["secret"], item["salt"], item["info"].encode("utf-8"))
    assert derived.hex() == item["derived_key_hex"]
