"""The catalogue of Wycheproof-style flags our generated vectors use.

Each generated file carries `notes` {flag: {bugType, description}} for the flags it uses, so a
reader (or another implementation's test runner) learns what hazard a case probes without reading
our code. `bugType` values are the ones Wycheproof defines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FLAGS: dict[str, tuple[str, str]] = {
    # General
    "Baseline": ("BASIC", "An ordinary, valid case."),
    "OfficialPythonDiverges": (
        "KNOWN_BUG",
        "The official Python package starfish-protocol 3.0.0a72 gives a different answer. The case's "
        "`officialPython` field records that answer exactly; vectors/README.md explains the finding.",
    ),
    # Canonical JSON
    "JsNumberThreshold": (
        "EDGE_CASE",
        "ECMAScript Number::toString writes fixed notation for 1e-6 <= |x| < 1e21 and exponent form outside; "
        "Python's repr switches at 1e-4 and 1e16.",
    ),
    "NegativeZero": ("EDGE_CASE", "-0 is written as 0."),
    "IntegralFloat": ("EDGE_CASE", "A double with no fractional part is written without '.0'."),
    "Subnormal": ("EDGE_CASE", "The smallest subnormal double, 5e-324."),
    "BeyondSafeInteger": (
        "EDGE_CASE",
        "An integer at or beyond 2^53 is written the way JavaScript writes the nearest double "
        "(shortest round-trip digits, padded with zeros), e.g. 2^60 as 1152921504606847000.",
    ),
    "BeyondDoubleRange": (
        "EDGE_CASE",
        "An integer literal beyond the double range: JavaScript parses it as Infinity, which JSON.stringify "
        "writes as null.",
    ),
    "LoneSurrogate": (
        "EDGE_CASE",
        "A string holding an unpaired UTF-16 surrogate: written as a lowercase \\udXXX escape, as ES2019 "
        "well-formed JSON.stringify does, so the canonical text is valid UTF-8.",
    ),
    "ControlCharacter": (
        "EDGE_CASE",
        "C0 control characters use the short escapes \\b \\f \\n \\r \\t or \\u00XX; DEL (U+007F) is written raw.",
    ),
    "LineSeparator": ("EDGE_CASE", "U+2028 and U+2029 are written raw, not escaped."),
    "Utf16SortTrap": (
        "EDGE_CASE",
        "Keys sort by Unicode code point. JavaScript's default sort compares UTF-16 code units and would put "
        "a non-BMP key (surrogate pair starting 0xD8xx) before BMP keys above U+D7FF.",
    ),
    "KeyOrder": ("BASIC", "Object keys are sorted by code point at every depth; array order is kept."),
    "DeepNesting": ("EDGE_CASE", "Sixty levels of nesting (the server refuses bodies deeper than 64)."),
    "StringEscapes": ("BASIC", "Quote and backslash are escaped; '/' and non-ASCII characters are written raw."),
    "Sanitize": (
        "FUNCTIONALITY",
        "The server drops __proto__, constructor, prototype, __class__ and __dict__ keys from every object "
        "(not inside arrays) before hashing; the hash is of the sanitised value.",
    ),
    "AppendHash": ("FUNCTIONALITY", "An append-only log reports hash({n: count, last: element})."),
    # Signatures (all signed families)
    "WrongKey": ("AUTH_BYPASS", "The signature was made by another key than the one the verifier uses."),
    "FlippedBit": ("MODIFIED_PARAMETER", "One bit of a valid signature is flipped."),
    "NonCanonicalS": (
        "SIGNATURE_MALLEABILITY",
        "The S half of a valid signature is replaced by S + L (L = 2^252 + "
        "27742317777372353535851937790883648493). RFC 8032 verifiers must reject S >= L.",
    ),
    "TruncatedSignature": ("MODIFIED_PARAMETER", "A valid signature with its last byte removed (63 bytes)."),
    "EmptySignature": ("MODIFIED_PARAMETER", "The signature is the empty string."),
    "ForgedSignature": ("MODIFIED_PARAMETER", "The signature is 64 zero bytes."),
    "LenientBase64": (
        "MALLEABILITY",
        "A valid signature whose base64 text has a space inserted. A strict decoder rejects it; a lenient "
        "one (Python's base64.b64decode without validate=True) skips the space and accepts it.",
    ),
    # Cap-certs
    "CapWindowEdge": (
        "EDGE_CASE",
        "The validity window with its 300 s slack: now = nbf - 300 and now = exp + 300 are valid, one second "
        "further is not.",
    ),
    "InvertedWindow": ("EDGE_CASE", "exp <= nbf is refused before the clock is consulted."),
    "WellFormedness": (
        "MISSING_STEP",
        "The cert is correctly signed but breaks a structural rule; verification must stop with the given "
        "reason code before checking the signature.",
    ),
    "ExtraField": ("FUNCTIONALITY", "An extra field is allowed; it is covered by the signature and otherwise ignored."),
    "TamperedAfterSigning": ("MODIFIED_PARAMETER", "A field was changed or added after the issuer signed."),
    "RootDevice": ("FUNCTIONALITY", "A self-signed device cap (iss == sub) of a root identity."),
    "Audience": ("FUNCTIONALITY", "An audience cap: no sub, subKem or subUserId; an optional aud allow-list."),
    # Request signatures
    "HostMismatch": ("AUTH_BYPASS", "The verifier rebuilds the input with another host."),
    "HostDefaultPort": (
        "EDGE_CASE",
        "The host binding drops the scheme's default port (:80 for http, :443 for https) and keeps any other.",
    ),
    "HostCase": ("EDGE_CASE", "The host binding is lowercased."),
    "MountPrefix": (
        "EDGE_CASE",
        "The signed path is the full server-side path, including the router mount prefix such as /v1.",
    ),
    "QueryOrder": ("EDGE_CASE", "The query string is signed raw: reordering parameters breaks the signature."),
    "BodyTampered": ("MODIFIED_PARAMETER", "The body differs from the signed body by one byte."),
    "GetBodyIgnored": (
        "EDGE_CASE",
        "For GET (any method outside POST/PUT/PATCH/DELETE) the server hashes an empty body, whatever was sent.",
    ),
    "BlobBodyRule": (
        "EDGE_CASE",
        "A non-JSON Content-Type (a blob upload) is signed over an empty body, whatever the real body is.",
    ),
    "MethodChanged": ("MODIFIED_PARAMETER", "The verifier sees another HTTP method than the signed one."),
    "TimestampChanged": ("MODIFIED_PARAMETER", "The verifier sees another X-Starfish-Ts than the signed one."),
    "NonAsciiPath": ("EDGE_CASE", "The path holds non-ASCII characters, signed as raw UTF-8 inside the JSON."),
    # Author proofs
    "DocumentKeyBinding": (
        "AUTH_BYPASS",
        "The proof is checked under another document key: a signed element must not be replayable elsewhere.",
    ),
    "DataTampered": ("MODIFIED_PARAMETER", "The data differs from the signed data."),
    "CrossDomainReplay": (
        "AUTH_BYPASS",
        "The signature was made under the other author domain (append vs document); domains must not mix.",
    ),
    # base64url and link fragments
    "Padding": ("BASIC", "base64url drops '=' padding for every input length modulo 3."),
    "UrlSafeAlphabet": ("BASIC", "base64url uses '-' and '_' where base64 uses '+' and '/'."),
    "NonAscii": ("EDGE_CASE", "Non-ASCII text is encoded as UTF-8 (and written raw by JSON.stringify)."),
    "InsertionOrder": (
        "EDGE_CASE",
        "A link fragment is plain JSON.stringify: keys are not sorted but kept in JavaScript's property order, "
        "which is insertion order except that array-index keys ('2', '10', not '01') come first, ascending.",
    ),
    "JsNumberForm": (
        "EDGE_CASE",
        "Numbers in a link token are written as JavaScript's JSON.stringify writes them (1.0 as 1, 1e-7, 2^60 as "
        "1152921504606847000).",
    ),
    "StrictDecoding": (
        "EDGE_CASE",
        "Input that is not canonical base64url ('+', '/', '=' or an impossible length). Our decoder rejects it so "
        "each value has exactly one spelling.",
    ),
    # HKDF / identity
    "HkdfEmptySalt": ("EDGE_CASE", "An empty salt, which HKDF treats as HashLen zero bytes."),
    "HkdfInfo": ("BASIC", "A different info string gives an unrelated key."),
    "NonAsciiSecret": ("EDGE_CASE", "The secret or passphrase is non-ASCII and used as UTF-8 bytes."),
    "NoUnicodeNormalization": (
        "EDGE_CASE",
        "Passphrases are not Unicode-normalised: NFC and NFD spellings of the same text derive different identities.",
    ),
    "BlankPassphrase": ("EDGE_CASE", "A blank passphrase is refused."),
    # Revocation
    "SubjectWideRevocation": ("FUNCTIONALITY", "revokedSubjects revokes every cap of a subject."),
    "AudienceSentinel": (
        "EDGE_CASE",
        'Audience caps are looked up with sub == ""; subject-wide revocation never applies to that sentinel.',
    ),
    # Keyring
    "WrongRecipient": ("CONFIDENTIALITY", "Another KEM key must not open the wrap entry."),
    "CiphertextTampered": ("MODIFIED_PARAMETER", "The AES-GCM ciphertext was modified; authentication must fail."),
    "LowOrderPoint": (
        "EDGE_CASE",
        "The ephemeral KEM key is a low-order point, giving an all-zero X25519 secret that must be refused.",
    ),
    "EpochBinding": ("MODIFIED_PARAMETER", "The epoch is bound (AAD or signed input); another epoch must fail."),
    "AdderSwapped": ("AUTH_BYPASS", "addedBy names another key than the one that signed addedSig."),
}


def notes_for(flags: Iterable[str]) -> dict[str, dict[str, str]]:
    """The `notes` object for the flags a file uses, in sorted order."""
    out: dict[str, dict[str, str]] = {}
    for flag in sorted(set(flags)):
        bug_type, description = FLAGS[flag]
        out[flag] = {"bugType": bug_type, "description": description}
    return out


def flags_in(cases: Iterable[Mapping[str, Any]]) -> set[str]:
    found: set[str] = set()
    for case in cases:
        found.update(case.get("flags", []))
    return found
