"""Family `append-author`: the author proof on an appended element (digest §4.2, §5.3(c)).

Upstream shape: `signer{label, edPriv, edPub}`, `wrongSignerPub`, `domain`,
`cases[{label, alg, documentKey, data, canonicalSigningInput, authorSignature, expectVerify}]`.
`alg` is a label only; it is not part of the signed input. Our generated cases add
`verifyPubkey`, `verifyDocumentKey` and `verifyData` for the negative cases.

The document author proof (`doc-author` family) has the same shape with another domain, so both
families share this module's replay and generation, parameterised by the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.author import author_signing_input, verify_author
from protocol.constants import APPEND_AUTHOR_DOMAIN, DOC_AUTHOR_DOMAIN
from protocol.encoding import EncodingError, b64decode, b64encode
from protocol.keys import SigningKey, verify_ed25519
from vectors import sigmutations
from vectors.families._common import Check, each_case, guard, require, resolve_pub
from vectors.fixtures import signing_key
from vectors.results import STALE, CaseResult, case_result
from vectors.wycheproof import INVALID, VALID, case, header, number

NAME = "append-author"
FILENAME = "append-author.json"

AUTHOR_DOMAINS = (APPEND_AUTHOR_DOMAIN, DOC_AUTHOR_DOMAIN)


def is_author_shape(doc: Any) -> bool:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cases"), list):
        return False
    return any(isinstance(c, Mapping) and "documentKey" in c and "authorSignature" in c for c in doc["cases"])


def detect(doc: Any) -> bool:
    """Author-proof shape whose domain is not the document domain (a missing domain is an old generation)."""
    return is_author_shape(doc) and doc.get("domain") != DOC_AUTHOR_DOMAIN


def _stale_reason(domain: Any, canonical: str) -> str | None:
    if domain is None:
        return "file has no 'domain' and signs without a domain tag (before 3.0.0a72)"
    if not any(canonical.startswith(d) for d in AUTHOR_DOMAINS):
        return "canonical signing input has no author domain tag (before 3.0.0a72)"
    return None


def _replay_case(family: str, doc: Mapping[str, Any], item: Mapping[str, Any], cid: str) -> CaseResult:
    domain = doc.get("domain")
    canonical = require(item, "canonicalSigningInput", str)
    pub = resolve_pub(item.get("verifyPubkey", require(doc, "signer", Mapping).get("edPub")), doc)
    stale = _stale_reason(domain, canonical)
    if stale:
        try:
            ok = verify_ed25519(pub, b64decode(item["authorSignature"]), canonical.encode("utf-8"))
        except (KeyError, TypeError, EncodingError):
            ok = False
        evidence = "its signature verifies over the file's canonical input" if ok else "its signature does not verify"
        return case_result(family, cid, STALE, f"{stale}; {evidence}")
    if domain not in AUTHOR_DOMAINS:
        raise ValueError(f"unknown author domain {domain!r}")
    check = Check()
    document_key = require(item, "documentKey", str)
    check.equal("canonical signing input", author_signing_input(domain, document_key, item["data"]), canonical)
    verified = verify_author(
        pub,
        require(item, "authorSignature", str),
        item.get("verifyDocumentKey", document_key),
        item["verifyData"] if "verifyData" in item else item["data"],
        domain=domain,
    )
    check.equal("signature verifies", verified, require(item, "expectVerify", bool))
    return check.result(family, cid)


def _replay_signer(family: str, doc: Mapping[str, Any]) -> CaseResult:
    check = Check()
    signer = require(doc, "signer", Mapping)
    if "edPriv" in signer:
        check.equal("signer.edPub from edPriv", SigningKey.from_hex(signer["edPriv"]).pub, signer.get("edPub"))
    return check.result(family, "signer")


def replay_author_file(family: str, doc: Mapping[str, Any]) -> list[CaseResult]:
    results = [guard(family, "signer", lambda: _replay_signer(family, doc))]
    return results + each_case(family, "cases", doc["cases"], lambda item, cid: _replay_case(family, doc, item, cid))


def replay(doc: Any) -> list[CaseResult]:
    return replay_author_file(NAME, doc)


# ---------------------------------------------------------------------------------------------------------------
# Generation


class GeneratorError(AssertionError):
    """A generated case does not verify the way the generator meant it to."""


SIGNER = signing_key("carol-author")
WRONG = signing_key("mallory")


def _case(
    domain: str,
    label: str,
    flags: list[str],
    expect: bool,
    document_key: str,
    data: Any,
    *,
    signer: SigningKey = SIGNER,
    sign_domain: str | None = None,
    mutate: Any = None,
    verify: dict[str, Any] | None = None,
    official: dict[str, Any] | None = None,
) -> dict[str, Any]:
    canonical = author_signing_input(domain, document_key, data)
    signed_text = author_signing_input(sign_domain or domain, document_key, data)
    signature = b64encode(signer.sign(signed_text.encode("utf-8")))
    if mutate is not None:
        signature = mutate(signature)
    fields: dict[str, Any] = {
        "alg": "ed25519",
        "documentKey": document_key,
        "data": data,
        "canonicalSigningInput": canonical,
        "authorSignature": signature,
    }
    if signer is not SIGNER:
        fields["verifyPubkey"] = "author.edPub"
    fields.update(verify or {})
    verified = verify_author(
        SIGNER.pub,
        signature,
        fields.get("verifyDocumentKey", document_key),
        fields.get("verifyData", data),
        domain=domain,
    )
    if verified != expect:
        raise GeneratorError(f"author/{label}: meant to verify {expect}, kit says {verified}")
    fields["expectVerify"] = verified
    if official is not None:
        fields["officialPython"] = official
        flags = [*flags, "OfficialPythonDiverges"]
    return case(label, flags, VALID if verified else INVALID, **fields)


def author_cases(domain: str) -> list[dict[str, Any]]:
    """The same list for both author domains (labels and data are shared; signatures differ)."""
    other = DOC_AUTHOR_DOMAIN if domain == APPEND_AUTHOR_DOMAIN else APPEND_AUTHOR_DOMAIN
    simple = {"authorId": "abc", "text": "hello", "ts": 1747000000000}
    key = "events"
    big_data = {"id": 2**60, "text": "big id"}
    official_big = author_signing_input(domain, "events", big_data).replace(
        "1152921504606847000", "1152921504606846976"
    )
    return [
        _case(domain, "simple-object", ["Baseline"], True, key, simple),
        _case(
            domain,
            "nested-and-array",
            ["Baseline", "KeyOrder"],
            True,
            "spaces/abc/streams/xyz",
            {"t": "msg", "e": {"id": "x1", "reactions": [1, 2, 3], "meta": {"b": 2, "a": 1}}},
        ),
        _case(
            domain,
            "encrypted-wrapper",
            ["Baseline"],
            True,
            "pubspaces/owner1/sp1/streams/r1",
            {"_encrypted": "AAECAwQFBgcICQoLZGVmZw==", "_epoch": 3},
        ),
        _case(
            domain,
            "non-ascii-and-escapes",
            ["NonAscii", "StringEscapes"],
            True,
            "notes/café",
            {"text": 'naïve "quoted" \\ 😀', "line": "a\u2028b"},
        ),
        _case(
            domain,
            "number-traps",
            ["JsNumberThreshold", "NegativeZero", "IntegralFloat"],
            True,
            key,
            {"small": 1e-7, "fixed": 1e-6, "big": 1e21, "neg0": -0.0, "one": 1.0},
        ),
        _case(
            domain,
            "integer-beyond-2-pow-53",
            ["BeyondSafeInteger"],
            True,
            key,
            big_data,
            official={"canonicalSigningInput": official_big, "expectVerify": False},
        ),
        _case(domain, "wrong-signer", ["WrongKey"], False, key, simple, signer=WRONG),
        _case(domain, "signature-flipped-bit", ["FlippedBit"], False, key, simple, mutate=sigmutations.flip_bit),
        _case(
            domain,
            "signature-non-canonical-s",
            ["NonCanonicalS"],
            False,
            key,
            simple,
            mutate=sigmutations.non_canonical_s,
        ),
        _case(domain, "signature-truncated", ["TruncatedSignature"], False, key, simple, mutate=sigmutations.truncated),
        _case(domain, "signature-empty", ["EmptySignature"], False, key, simple, mutate=lambda _sig: ""),
        _case(
            domain,
            "signature-with-space",
            ["LenientBase64"],
            False,
            key,
            simple,
            mutate=sigmutations.with_space,
            official={"expectVerify": True},
        ),
        _case(
            domain,
            "replayed-under-other-document-key",
            ["DocumentKeyBinding"],
            False,
            key,
            simple,
            verify={"verifyDocumentKey": "events-archive"},
        ),
        _case(
            domain,
            "data-tampered",
            ["DataTampered"],
            False,
            key,
            simple,
            verify={"verifyData": {**simple, "text": "hellO"}},
        ),
        _case(domain, "signed-under-other-domain", ["CrossDomainReplay"], False, key, simple, sign_domain=other),
    ]


def author_file(domain: str, description: str) -> dict[str, Any]:
    cases = author_cases(domain)
    number([cases])
    return {
        **header(description, cases),
        "signer": {"label": "author", "edPriv": SIGNER.private_hex(), "edPub": SIGNER.pub},
        "wrongSignerPub": {"label": "mallory", "edPub": WRONG.pub},
        "domain": domain,
        "cases": cases,
    }


def generate() -> dict[str, Any]:
    return author_file(
        APPEND_AUTHOR_DOMAIN,
        "Append-author Ed25519 proofs for Starfish v3 (digest §4.2, §5.3(c)): the signing input is "
        "domain + stableStringify({k: documentKey, d: data}). Upstream append-author.json shape; negative cases "
        "use verifyPubkey / verifyDocumentKey / verifyData.",
    )
