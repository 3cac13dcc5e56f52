"""Unit tests for protocol.capcert: well-formedness codes, validity window, signatures, path globs (§5.2, §5.11)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from _capcert_cases import (
    EXP,
    ISSUER,
    MALFORMED_CASES,
    NBF,
    NONCE,
    OTHER,
    SUB_KEM,
    SUBJECT,
    VALID_CASES,
    cert,
    unsigned_cert,
)

from protocol.canonical_json import stable_stringify
from protocol.capcert import (
    build_cap_cert,
    cap_header,
    capcert_signing_input,
    check_well_formed,
    is_root_device_cap,
    new_cap_nonce,
    path_glob_match,
    scope_allows_path,
    sign_cap_cert,
    signature_valid,
    verify_cap_cert,
)
from protocol.constants import CAPCERT_DOMAIN
from protocol.encoding import b64decode, b64encode
from protocol.errors import CapCertError
from protocol.keys import KemKey, verify_ed25519

# ---------------------------------------------------------------------------------------------------- shape


@pytest.mark.parametrize(("case", "code", "bad"), MALFORMED_CASES, ids=[c[0] for c in MALFORMED_CASES])
def test_each_well_formedness_code(case: str, code: str, bad: Any) -> None:
    with pytest.raises(CapCertError) as info:
        check_well_formed(bad)
    assert info.value.code == code
    with pytest.raises(CapCertError) as info:
        verify_cap_cert(bad, now_sec=NBF)
    assert info.value.code == code


def test_every_digest_code_is_exercised() -> None:
    codes = {code for _, code, _ in MALFORMED_CASES}
    assert codes == {
        "malformed-shape",
        "iss-userid-mismatch",
        "sub-userid-mismatch",
        "audience-has-sub",
        "non-audience-has-aud",
        "audience-empty-aud",
        "audience-aud-too-large",
        "audience-aud-bad-entry",
        "audience-aud-dup",
    }


@pytest.mark.parametrize(("case", "good"), VALID_CASES, ids=[c[0] for c in VALID_CASES])
def test_valid_certs_verify(case: str, good: dict[str, Any]) -> None:
    check_well_formed(good)
    assert signature_valid(good)
    verify_cap_cert(good, now_sec=NBF)


@pytest.mark.parametrize("bad", [None, 1, "cert", [], b"{}"])
def test_non_object_is_malformed(bad: Any) -> None:
    with pytest.raises(CapCertError) as info:
        verify_cap_cert(bad, now_sec=NBF)
    assert info.value.code == "malformed-shape"


# ---------------------------------------------------------------------------------------------------- window


@pytest.mark.parametrize(
    ("now", "code"),
    [
        (NBF - 301, "not-yet-valid"),
        (NBF - 300, None),
        (NBF, None),
        (EXP, None),
        (EXP + 300, None),
        (EXP + 301, "expired"),
    ],
)
def test_window_edges_with_300s_skew(now: int, code: str | None) -> None:
    good = cert()
    if code is None:
        verify_cap_cert(good, now_sec=now)
    else:
        with pytest.raises(CapCertError) as info:
            verify_cap_cert(good, now_sec=now)
        assert info.value.code == code


def test_custom_skew() -> None:
    verify_cap_cert(cert(), now_sec=EXP + 10, skew_sec=10)
    with pytest.raises(CapCertError) as info:
        verify_cap_cert(cert(), now_sec=EXP + 11, skew_sec=10)
    assert info.value.code == "expired"


@pytest.mark.parametrize(("nbf", "exp"), [(NBF, NBF), (NBF, NBF - 1), (EXP, NBF)])
def test_inverted_window(nbf: int, exp: int) -> None:
    with pytest.raises(CapCertError) as info:
        verify_cap_cert(cert(nbf=nbf, exp=exp), now_sec=nbf)
    assert info.value.code == "inverted-window"


def test_check_order_window_before_signature() -> None:
    expired_and_forged = {**cert(), "sig": b64encode(bytes(64))}
    with pytest.raises(CapCertError) as info:
        verify_cap_cert(expired_and_forged, now_sec=EXP + 301)
    assert info.value.code == "expired"
    with pytest.raises(CapCertError) as info:
        verify_cap_cert(expired_and_forged, now_sec=NBF)
    assert info.value.code == "bad-signature"


def test_inverted_window_wins_over_time_checks() -> None:
    with pytest.raises(CapCertError) as info:
        verify_cap_cert(cert(nbf=EXP, exp=NBF), now_sec=0)
    assert info.value.code == "inverted-window"


# ---------------------------------------------------------------------------------------------------- signature


def test_signing_input_is_domain_plus_canonical_without_sig() -> None:
    good = cert()
    body = {k: v for k, v in good.items() if k != "sig"}
    assert capcert_signing_input(good) == CAPCERT_DOMAIN + stable_stringify(body)
    assert capcert_signing_input(good) == capcert_signing_input(body)
    assert verify_ed25519(ISSUER.pub, b64decode(good["sig"]), capcert_signing_input(good).encode())


def test_key_order_does_not_matter() -> None:
    good = cert()
    reordered = dict(reversed(list(good.items())))
    assert signature_valid(reordered)
    verify_cap_cert(reordered, now_sec=NBF)


def test_sign_replaces_existing_sig() -> None:
    good = cert()
    resigned = sign_cap_cert({**good, "sig": "garbage"}, ISSUER)
    assert resigned["sig"] == good["sig"]  # Ed25519 is deterministic


# Each mutation changes one signed field and keeps the cert well formed.
WELL_FORMED_MUTATIONS: dict[str, dict[str, Any]] = {
    "v": {"v": 2},
    "v-dropped": {"v": None},
    "kind": {"kind": "member"},
    "iss+issUserId": {"iss": OTHER.pub, "issUserId": OTHER.user_id},
    "sub": {"sub": OTHER.pub},
    "subKem": {"subKem": KemKey.derive(b"other", "kem").pub},
    "ops": {"scope": {"ops": ["read"], "collections": ["notes"]}},
    "collections": {"scope": {"ops": ["read", "write"], "collections": ["notes", "x"]}},
    "paths": {"scope": {"ops": ["read", "write"], "collections": ["notes"], "paths": ["**"]}},
    "nbf": {"nbf": NBF - 1},
    "exp": {"exp": EXP + 1},
    "nonce": {"nonce": b64encode(bytes(16))},
    "added-field": {"issAlg": "ed25519"},
    "subUserId-added": {"subUserId": SUBJECT.user_id},
    "sig-other-message": {"sig": cert(exp=EXP + 2)["sig"]},
    "sig-zero": {"sig": b64encode(bytes(64))},
}


@pytest.mark.parametrize("field", sorted(WELL_FORMED_MUTATIONS))
def test_bad_signature_after_any_field_change(field: str) -> None:
    mutated = cert()
    for key, value in WELL_FORMED_MUTATIONS[field].items():
        if value is None:
            del mutated[key]
        else:
            mutated[key] = value
    check_well_formed(mutated)
    assert not signature_valid(mutated)
    with pytest.raises(CapCertError) as info:
        verify_cap_cert(mutated, now_sec=NBF)
    assert info.value.code == "bad-signature"


def test_every_signed_field_is_covered() -> None:
    good = cert()
    for key in good:
        if key == "sig":
            continue
        mutated = {**good, key: "changed"}
        assert not signature_valid(mutated), key
        dropped = {k: v for k, v in good.items() if k != key}
        assert not signature_valid(dropped), key


@pytest.mark.parametrize("sig", [None, 5, "", "!!!!", b64encode(bytes(63)), b64encode(bytes(65))])
def test_signature_valid_never_raises(sig: Any) -> None:
    assert signature_valid({**cert(), "sig": sig}) is False
    assert signature_valid({k: v for k, v in cert().items() if k != "sig"}) is False


# ---------------------------------------------------------------------------------------------------- builders


def test_build_cap_cert_defaults() -> None:
    built = build_cap_cert(
        issuer=ISSUER,
        sub=SUBJECT.pub,
        sub_kem=SUB_KEM.pub,
        scope={"ops": ["read"], "collections": ["c"]},
        nbf=NBF,
        exp=EXP,
        extra={"issAlg": "ed25519"},
    )
    assert built["v"] == 1 and built["kind"] == "device"
    assert built["iss"] == ISSUER.pub and built["issUserId"] == ISSUER.user_id
    assert built["issAlg"] == "ed25519"
    assert len(b64decode(built["nonce"])) == 16
    verify_cap_cert(built, now_sec=NBF)


def test_build_audience_cap() -> None:
    aud = [SUBJECT.pub, OTHER.pub]
    built = build_cap_cert(
        issuer=ISSUER,
        kind="audience",
        scope={"ops": ["read"], "collections": ["c"], "paths": ["x"]},
        nbf=NBF,
        exp=EXP,
        nonce=NONCE,
        aud=aud,
    )
    assert "sub" not in built and built["aud"] == aud
    verify_cap_cert(built, now_sec=NBF)


def test_new_cap_nonce_is_fresh_16_bytes() -> None:
    nonces = {new_cap_nonce() for _ in range(50)}
    assert len(nonces) == 50
    assert all(len(b64decode(n)) == 16 for n in nonces)


def test_cap_header_is_base64_of_canonical_json() -> None:
    good = cert()
    header = cap_header(good)
    assert header.startswith("Cap ")
    decoded = base64.b64decode(header[4:], validate=True).decode("utf-8")
    assert decoded == stable_stringify(good)
    assert json.loads(decoded) == good


def test_is_root_device_cap() -> None:
    root = sign_cap_cert({**unsigned_cert(), "iss": SUBJECT.pub, "issUserId": SUBJECT.user_id}, SUBJECT)
    assert is_root_device_cap(root)
    assert not is_root_device_cap(cert())
    assert not is_root_device_cap({**root, "kind": "member"})
    assert is_root_device_cap(None) is False  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------- globs


@pytest.mark.parametrize(
    ("glob", "target", "expected"),
    [
        ("a/b", "a/b", True),
        ("a/b", "a/c", False),
        ("a/b", "a/b/c", False),
        ("a/b", "a", False),
        ("a/*", "a/b", True),
        ("a/*", "a/", True),
        ("a/*", "a/b/c", False),
        ("*", "", True),
        ("*", "a/b", False),
        ("x*y", "x/y", False),
        ("x*y", "xaaay", True),
        ("*.md", "x.md", True),
        ("*.md", "d/x.md", False),
        ("**", "", True),
        ("**", "a/b/c", True),
        ("a/**", "a/b/c", True),
        ("a/**", "a/", True),
        ("a/**", "a", False),
        ("**.md", "d/x.md", True),
        ("**/*", "a/b/c", True),
        ("a/**/*.md", "a/x/y/z.md", True),
        ("a/**/*.md", "a/x/y/z.txt", False),
        ("***", "a/b", True),
        ("", "", True),
        ("", "a", False),
        ("A", "a", False),
        ("a?b", "a?b", True),
        ("a?b", "axb", False),
        ("a.b", "axb", False),
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
        ("{x}", "{x}", True),
        ("a+b", "aab", False),
        ("é*", "éa", True),
        ("a\\*", "a\\b", True),
        ("a\\*", "a*", False),
    ],
)
def test_path_glob_match(glob: str, target: str, expected: bool) -> None:
    assert path_glob_match(glob, target) is expected


@pytest.mark.parametrize("glob", ["*a*a*a*a*a*a*a*a*b", "**a**a**a**a**a**a**a**b", "*a" * 50 + "b"])
def test_pathological_glob_finishes_fast(glob: str) -> None:
    started = time.perf_counter()
    assert not path_glob_match(glob, "a" * 5000)
    # Not a speed test: a backtracking matcher takes hours here, a linear one milliseconds; the bound
    # only turns a hang into a failure, and is loose enough never to flake on a loaded machine.
    assert time.perf_counter() - started < 20.0


def test_pathological_glob_that_matches() -> None:
    assert path_glob_match("*a*a*a*a*a*a*a*a*b", "a" * 5000 + "b")


@pytest.mark.parametrize(
    ("paths", "target", "identity", "expected"),
    [
        (["users/{identity}/**"], "users/u1/notes/x", "u1", True),
        (["users/{identity}/**"], "users/u2/notes/x", "u1", False),
        (["users/{identity}"], "users/u1", "u1", True),
        (["users/{identity}"], "users/", "", True),  # the empty identity substitutes to nothing
        (["{identity}/*", "{identity}/shared/**"], "me/shared/a/b", "me", True),
        (["**", "!private"], "private", "", False),
        (["**", "!private"], "private/a/b", "", False),
        (["**", "!private"], "privateer", "", True),
        (["**", "!private"], "public/x", "", True),
        (["**", "!*/_keyring"], "a/_keyring", "", False),
        (["**", "!*/_keyring"], "a/_keyring/x", "", False),
        (["**", "!*/_keyring"], "a/b/_keyring", "", True),
        (["**", "!{identity}/secret"], "me/secret/x", "me", False),
        (["**", "!{identity}/secret"], "you/secret/x", "me", True),
        (["!secret"], "x", "", False),
        (["!secret"], "secret", "", False),
        (["!a", "!b"], "c", "", False),
        ([], "anything", "", False),
        (["a", "b"], "b", "", True),
        (["a", "!a"], "a", "", False),
        (("a",), "a", "", True),
    ],
)
def test_scope_allows_path(paths: list[str], target: str, identity: str, expected: bool) -> None:
    assert scope_allows_path(paths, target, identity=identity) is expected


@pytest.mark.parametrize(("paths", "target"), [(None, "a"), (["a", None], "a"), (["a"], None), (5, "a")])
def test_scope_allows_path_garbage_is_denied(paths: Any, target: Any) -> None:
    assert scope_allows_path(paths, target) is False
