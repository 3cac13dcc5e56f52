"""The kit's error contract: every public function, given garbage, raises a ProtocolError or returns False.

Garbage means None, numbers, bytes, the wrong container or a foreign object in any one argument, with every
other argument valid. A bare TypeError/AttributeError/KeyError escaping from the kit would turn a malformed
request into a crash of the reference server or the harness, so none may.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from protocol import (
    author,
    canonical_json,
    capcert,
    encoding,
    errors,
    hashing,
    identity,
    keyring,
    keys,
    revocation,
    signing,
)
from protocol.errors import (
    CanonicalJsonError,
    CapCertError,
    EncodingError,
    IdentityError,
    KeyFormatError,
    KeyringError,
    ProtocolError,
    RevocationListError,
    rejects_garbage,
)

MODULES = [author, canonical_json, capcert, encoding, hashing, identity, keyring, keys, revocation, signing]

SK = keys.SigningKey.derive(b"test_protocol_errors", "sk")
KK = keys.KemKey.derive(b"test_protocol_errors", "kk")
CERT = capcert.build_cap_cert(
    issuer=SK, sub=SK.pub, sub_kem=KK.pub, scope={"ops": ["read"], "collections": ["c"]}, nbf=0, exp=10
)
REVLIST = revocation.build_revocation_list(SK, 1, [{"sub": SK.pub, "nonce": "n", "exp": 1}])
ENTRY = keyring.wrap_for_recipient(bytes(32), KK.pub, adder=SK, added_at=1, epoch=1)
WRAPPER = keyring.encrypt_document(b"p", bytes(32), 1)
REQ_SIG, REQ_TS, REQ_NONCE = signing.sign_request(SK, "POST", "/p", b"body", host="h", ts_ms=1, nonce="n")
AUTHOR_SIG = author.sign_append_author(SK, "k", {"a": 1})["authorSignature"]
ED_SIG = SK.sign(b"m")

# A valid value for every parameter name used in the kit's public signatures.
DEFAULTS: dict[str, Any] = {
    "value": {"a": 1},
    "raw": b"x",
    "data": {"a": 1},
    "count": 1,
    "last": {},
    "text": "aGk=",
    "length": None,
    "what": "w",
    "origin": "o",
    "path": "p",
    "token": {},
    "fragment": encoding.encode_link_fragment("o", "p", {}),
    "pub_hex": SK.pub,
    "ikm": b"k",
    "salt": b"s",
    "info": b"i",
    "priv_hex": SK.private_hex(),
    "seed": b"s",
    "label": "l",
    "signature": ED_SIG,
    "message": b"m",
    "peer_pub_hex": KK.pub,
    "cert": CERT,
    "unsigned": CERT,
    "issuer": SK,
    "kind": "device",
    "sub": SK.pub,
    "sub_kem": KK.pub,
    "scope": {"ops": [], "collections": []},
    "nbf": 0,
    "exp": 1,
    "nonce": REQ_NONCE,
    "sub_user_id": None,
    "aud": None,
    "extra": None,
    "now_sec": 5,
    "skew_sec": 300,
    "glob": "a*",
    "target": "ab",
    "paths": ["a*"],
    "identity": "",
    "method": "POST",
    "content_type": None,
    "body": b"body",
    "host_header": "h",
    "scheme": "http",
    "path_and_query": "/p",
    "host": "h",
    "ts_ms": REQ_TS,
    "key": SK,
    "signature_b64": REQ_SIG,
    "now": 1,
    "max_skew_ms": 5,
    "presenter_pub": False,
    "domain": "starfish-append-author-v1\n",
    "document_key": "k",
    "revocation_list": REVLIST,
    "generation": 1,
    "revoked": [],
    "revoked_subjects": None,
    "cap_nonce": "n",
    "passphrase": "p",
    "secret": "s",
    "entry": ENTRY,
    "epoch": 1,
    "cek": bytes(32),
    "recipient_kem_pub": KK.pub,
    "adder": SK,
    "added_at": 1,
    "ephemeral": None,
    "iv": None,
    "recipient": KK,
    "plaintext": b"p",
    "wrapper": WRAPPER,
}

# Per-function overrides where the shared default would not make a valid call.
OVERRIDES: dict[str, dict[str, Any]] = {
    "verify_ed25519": {"signature": ED_SIG, "message": b"m"},
    "verify_author": {"pub_hex": SK.pub, "signature_b64": AUTHOR_SIG, "document_key": "k", "data": {"a": 1}},
    "signature_valid": {"cert": CERT},
    "b64decode": {"text": "aGk="},
    "from_base64url": {"text": "aGk"},
    "hex_to_bytes": {"text": "abcd"},
    "entry_signature_valid": {"entry": ENTRY, "epoch": 1},
    "is_root_device_cap": {"cert": CERT},
    "scope_allows_path": {"paths": ["{identity}a*"], "target": "ab"},
    "path_glob_match": {"glob": "a*", "target": "ab"},
    "within_skew": {"ts_ms": 1, "now": 1, "max_skew_ms": 5},
    "derive_key": {"secret": "s", "salt": "s", "info": b"i"},
    "hkdf_sha256": {"length": 32},
    "js_number": {"value": 1.5},
    "json_string": {"value": "text"},
    "proof_of": {"body": {"authorPubkey": "p"}},
}

# Functions whose contract is "True or False, never raise": garbage must read as False.
BOOLEAN_CHECKS = {
    "verify_ed25519",
    "verify_author",
    "verify_request_signature",
    "signature_valid",
    "entry_signature_valid",
    "is_root_device_cap",
    "path_glob_match",
    "scope_allows_path",
    "within_skew",
}

SLOW = {"argon2_master", "derive_root_identity"}  # Argon2id costs ~0.1 s a call; garbage is checked separately


class Opaque:
    """A foreign object with no useful behaviour."""


GARBAGE: list[Any] = [
    None,
    0,
    -7,
    2**80,
    1.5,
    float("nan"),
    True,
    b"\xff\x00",
    bytearray(b"z"),
    [],
    [None],
    {},
    {"x": object()},
    Opaque(),
    "",
    "zz",
    "\ud800",
    (1, 2),
    {1, 2},
]


def _public_functions() -> list[tuple[str, Callable[..., Any]]]:
    found: list[tuple[str, Callable[..., Any]]] = []
    for module in MODULES:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            if inspect.signature(fn).parameters and name not in SLOW:
                found.append((name, fn))
    methods = [
        ("SigningKey.from_hex", keys.SigningKey.from_hex),
        ("SigningKey.derive", keys.SigningKey.derive),
        ("SigningKey.sign", SK.sign),
        ("KemKey.from_hex", keys.KemKey.from_hex),
        ("KemKey.derive", keys.KemKey.derive),
        ("KemKey.shared_secret", KK.shared_secret),
    ]
    return sorted(found) + methods


FUNCTIONS = _public_functions()


def _valid_kwargs(name: str, fn: Callable[..., Any]) -> dict[str, Any]:
    params = inspect.signature(fn).parameters
    chosen = {**DEFAULTS, **OVERRIDES.get(name, {})}
    if name == "KemKey.from_hex":
        chosen["priv_hex"] = KK.private_hex()
    missing = [p for p in params if p not in chosen]
    if missing:
        pytest.fail(f"add a valid default for parameter(s) {missing} of {name} to DEFAULTS or OVERRIDES")
    return {p: chosen[p] for p in params}


def _call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    params = inspect.signature(fn).parameters
    positional = [kwargs[p] for p, spec in params.items() if spec.kind is spec.POSITIONAL_OR_KEYWORD]
    keyword = {p: kwargs[p] for p, spec in params.items() if spec.kind is spec.KEYWORD_ONLY}
    return fn(*positional, **keyword)


def test_the_table_covers_the_kit() -> None:
    names = {name for name, _ in FUNCTIONS}
    assert {"stable_stringify", "verify_cap_cert", "verify_request_signature", "unwrap", "is_revoked"} <= names
    assert len(names) > 50


@pytest.mark.parametrize(("name", "fn"), FUNCTIONS, ids=[name for name, _ in FUNCTIONS])
def test_baseline_call_is_valid(name: str, fn: Callable[..., Any]) -> None:
    result = _call(fn, _valid_kwargs(name, fn))
    if name in BOOLEAN_CHECKS:
        assert result is True


@pytest.mark.parametrize(("name", "fn"), FUNCTIONS, ids=[name for name, _ in FUNCTIONS])
def test_garbage_in_any_argument(name: str, fn: Callable[..., Any]) -> None:
    valid = _valid_kwargs(name, fn)
    for param in valid:
        for garbage in GARBAGE:
            kwargs = {**valid, param: garbage}
            try:
                result = _call(fn, kwargs)
            except ProtocolError:
                continue
            except Exception as exc:
                pytest.fail(f"{name}({param}={garbage!r}) raised {type(exc).__name__}: {exc}")
            if name in BOOLEAN_CHECKS and not _harmless(name, param, garbage, valid[param]):
                assert result is False, f"{name}({param}={garbage!r}) returned {result!r}"


def _harmless(name: str, param: str, garbage: Any, valid: Any) -> bool:
    """Garbage that is still a meaningful value for the parameter, so True can be a correct answer."""
    if type(garbage) is type(valid) and garbage == valid:
        return True
    # Any number is a usable timestamp or window (and bools are ints in Python).
    return name == "within_skew" and isinstance(garbage, (int, float))


@pytest.mark.parametrize("garbage", [None, 0, b"pass", [], Opaque(), "", "   "])
def test_slow_identity_functions_reject_garbage(garbage: Any) -> None:
    for fn in (identity.argon2_master, identity.derive_root_identity):
        with pytest.raises(IdentityError):
            fn(garbage)


def test_error_hierarchy_and_codes() -> None:
    for cls in (
        EncodingError,
        KeyFormatError,
        CanonicalJsonError,
        CapCertError,
        RevocationListError,
        KeyringError,
        IdentityError,
    ):
        assert issubclass(cls, ProtocolError) and issubclass(cls, ValueError)
        assert cls("x").code == cls.code
        assert cls("x", code="custom").code == "custom"
    assert ProtocolError("m").code == "protocol-error"
    assert str(CapCertError("human sentence")) == "human sentence"


def test_rejects_garbage_decorator() -> None:
    @rejects_garbage(EncodingError)
    def boom(value: Any) -> Any:
        return value["k"]

    @rejects_garbage(returns=False)
    def check(value: Any) -> bool:
        return value.startswith("a")

    @rejects_garbage()
    def passes_through() -> None:
        raise KeyringError("kept", code="mine")

    assert boom({"k": 1}) == 1
    with pytest.raises(EncodingError) as info:
        boom(None)
    assert isinstance(info.value.__cause__, TypeError)
    assert check(5) is False and check("ab") is True
    with pytest.raises(KeyringError) as kept:
        passes_through()
    assert kept.value.code == "mine"
    assert boom.__name__ == "boom" and errors.rejects_garbage is rejects_garbage
