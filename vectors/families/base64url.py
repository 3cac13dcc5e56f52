"""Family `base64url`: base64url text encoding and share-link fragments (base64url.json).

Upstream shape: `base64url.cases[{label, input, base64url | base64url_must_not_contain_chars}]` and
`link_fragment.cases[{label, origin, path, token, fragment}]`, where
`fragment = base64url(JSON.stringify([origin, path, token]))` (plain JSON, insertion order).
Our generated file adds `base64url_decode_rejects.cases[{label, base64url}]`: texts a strict
decoder must refuse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from protocol.canonical_json import stable_stringify
from protocol.encoding import decode_link_fragment, encode_link_fragment, from_base64url, to_base64url
from protocol.errors import EncodingError
from vectors.families._common import Check, each_case, require
from vectors.results import FAIL, CaseResult, case_result
from vectors.wycheproof import INVALID, VALID, case, header, number

NAME = "base64url"
FILENAME = "base64url.json"

SECTIONS = ("base64url", "link_fragment", "base64url_decode_rejects")


def detect(doc: Any) -> bool:
    return isinstance(doc, Mapping) and any(
        isinstance(doc.get(key), Mapping) and isinstance(doc[key].get("cases"), list) for key in SECTIONS[:2]
    )


def _replay_text(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    text = require(item, "input", str)
    encoded = to_base64url(text)
    if "base64url" in item:
        check.equal("base64url", encoded, require(item, "base64url", str))
        check.equal("decoded back", from_base64url(item["base64url"]), text)
    elif "base64url_must_not_contain_chars" in item:
        banned = [
            c for c in require(item, "base64url_must_not_contain_chars", list) if isinstance(c, str) and c in encoded
        ]
        if banned:
            check.fail(f"base64url {encoded!r} contains {banned}")
    else:
        check.fail("case has neither base64url nor base64url_must_not_contain_chars")
    return check.result(NAME, cid)


def _replay_fragment(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    fragment = require(item, "fragment", str)
    ours = encode_link_fragment(require(item, "origin", str), require(item, "path", str), item["token"])
    check.equal("fragment", ours, fragment)
    # Compared as JavaScript sees values (1.0 == 1, 2**60 rounds to its double), via canonical JSON.
    check.equal("decoded token", stable_stringify(decode_link_fragment(fragment)), stable_stringify(item["token"]))
    return check.result(NAME, cid)


def _replay_reject(item: Mapping[str, Any], cid: str) -> CaseResult:
    check = Check()
    text = require(item, "base64url", str)
    try:
        decoded = from_base64url(text)
    except EncodingError:
        return check.result(NAME, cid)
    check.fail(f"decoder accepted {text!r} (as {decoded!r}); it must reject it")
    return check.result(NAME, cid)


_REPLAYERS = {"base64url": _replay_text, "link_fragment": _replay_fragment, "base64url_decode_rejects": _replay_reject}


def replay(doc: Any) -> list[CaseResult]:
    results: list[CaseResult] = []
    for section in SECTIONS:
        if section not in doc:
            continue
        block = doc[section]
        if not isinstance(block, Mapping):
            results.append(case_result(NAME, section, FAIL, f"{section} must be an object with cases"))
            continue
        results += each_case(NAME, section, block.get("cases"), _REPLAYERS[section])
    return results


# ---------------------------------------------------------------------------------------------------------------
# Generation


def _text(label: str, text: str, flags: list[str]) -> dict[str, Any]:
    return case(label, flags, VALID, input=text, base64url=to_base64url(text))


def _python_fragment(origin: str, path: str, token: Any) -> str:
    """What the official Python package writes: json.dumps with its defaults (ASCII escapes, Python numbers)."""
    return to_base64url(json.dumps([origin, path, token], separators=(",", ":")))


def _fragment(label: str, token: Any, flags: list[str], *, diverges: bool = False) -> dict[str, Any]:
    origin, path = "https://app.example.com", "/join"
    fragment = encode_link_fragment(origin, path, token)
    fields: dict[str, Any] = {"origin": origin, "path": path, "token": token, "fragment": fragment}
    if diverges:
        official = _python_fragment(origin, path, token)
        if official == fragment:
            raise AssertionError(f"base64url/{label}: expected the official fragment to differ")
        fields["officialPython"] = {"fragment": official}
        flags = [*flags, "OfficialPythonDiverges"]
    return case(label, flags, VALID, **fields)


def _reject(label: str, text: str, official_decoded: str | None) -> dict[str, Any]:
    if official_decoded is None:  # the official decoder refuses it too
        return case(label, ["StrictDecoding"], INVALID, base64url=text)
    return case(
        label,
        ["StrictDecoding", "OfficialPythonDiverges"],
        INVALID,
        base64url=text,
        officialPython={"decoded": official_decoded},
    )


def generate() -> dict[str, Any]:
    texts = [
        _text("empty", "", ["Padding"]),
        _text("len-mod3-eq-1", "a", ["Padding"]),
        _text("len-mod3-eq-2", "ab", ["Padding"]),
        _text("len-mod3-eq-0", "abc", ["Padding"]),
        _text("json-token", '{"type":"space","id":"abc"}', ["Baseline"]),
        _text("url-safe-alphabet", "<<??>>", ["UrlSafeAlphabet"]),
        _text("non-ascii", "héllo wörld 😀", ["NonAscii"]),
        case(
            "url-unsafe-chars-absent",
            ["UrlSafeAlphabet"],
            VALID,
            input="<<??>>~~~ÿ",
            base64url_must_not_contain_chars=["+", "/", "="],
        ),
    ]
    fragments = [
        _fragment("space-invite", {"type": "space-invite", "id": "sp-abc", "expiresAt": 1900000000}, ["Baseline"]),
        _fragment("insertion-order-kept", {"z": 1, "a": 2, "m": {"y": 0, "b": 1}}, ["InsertionOrder"]),
        _fragment("integer-like-keys-first", {"b": 1, "10": 2, "2": 3, "01": 4}, ["InsertionOrder"], diverges=True),
        _fragment("non-ascii-token", {"name": "Zoë", "emoji": "🔑"}, ["NonAscii"], diverges=True),
        _fragment(
            "js-number-forms",
            {"one": 1.0, "tiny": 1e-7, "big": 2**60, "wide": 1e16},
            ["JsNumberForm", "BeyondSafeInteger"],
            diverges=True,
        ),
        _fragment("lone-surrogate-token", {"s": "x\ud800"}, ["LoneSurrogate"]),
    ]
    rejects = [
        _reject("standard-alphabet-plus-slash", "PDw/Pz4+", "<<??>>"),
        _reject("padding-present", "YQ==", "a"),
        _reject("impossible-length", "YWJjZ", None),
    ]
    number([texts, fragments, rejects])
    doc: dict[str, Any] = header(
        "base64url (RFC 4648 §5, no padding) and share-link fragments, base64url(JSON.stringify([origin, path, "
        "token])), for Starfish v3. Upstream base64url.json shape plus base64url_decode_rejects: texts a strict "
        "decoder refuses.",
        [*texts, *fragments, *rejects],
    )
    doc["base64url"] = {"cases": texts}
    doc["link_fragment"] = {
        "description": "fragment = base64url(JSON.stringify([origin, path, token])): plain JSON in the token's key "
        "insertion order, non-ASCII written raw, numbers as JavaScript writes them.",
        "cases": fragments,
    }
    doc["base64url_decode_rejects"] = {"cases": rejects}
    return doc
