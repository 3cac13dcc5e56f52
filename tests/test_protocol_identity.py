"""Unit tests for protocol.identity: root identity derivation (identity-derivation.json)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from protocol.errors import IdentityError
from protocol.identity import RootIdentity, argon2_master, derive_root_identity

# The official vectors live in the shared folder beside the repository (override with STARFISH_SHARED_DIR).
SHARED = Path(os.environ.get("STARFISH_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
VECTOR_FILE = SHARED / "vectors" / "starfish-3.0.0a72" / "identity-derivation.json"


@pytest.fixture(scope="module")
def vector() -> dict[str, Any]:
    if not VECTOR_FILE.is_file():
        pytest.fail(f"official vector file missing: {VECTOR_FILE} (set STARFISH_SHARED_DIR to the shared folder)")
    return json.loads(VECTOR_FILE.read_text(encoding="utf-8"))["vectors"][0]


@pytest.fixture(scope="module")
def identity(vector: dict[str, Any]) -> RootIdentity:
    return derive_root_identity(vector["passphrase"])


def test_vector_master_secret(vector: dict[str, Any]) -> None:
    assert argon2_master(vector["passphrase"]).hex() == vector["argon2Master"]


def test_vector_keys_and_user_id(vector: dict[str, Any], identity: RootIdentity) -> None:
    assert identity.signing.private_hex() == vector["rootEdPriv"]
    assert identity.signing.pub == vector["rootEdPub"]
    assert identity.kem.private_hex() == vector["rootKemPriv"]
    assert identity.kem.pub == vector["rootKemPub"]
    assert identity.user_id == vector["userId"]
    assert identity.user_id == identity.signing.user_id


def test_repr_shows_no_private_key(identity: RootIdentity) -> None:
    text = repr(identity) + str(identity) + repr([identity])
    for secret in (identity.signing.private_hex(), identity.kem.private_hex()):
        assert secret not in text
        assert secret[:16] not in text
    assert identity.user_id in repr(identity)


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u3000", None, 5, b"passphrase", ["x"]])
def test_blank_or_non_string_passphrase(blank: object) -> None:
    with pytest.raises(IdentityError):
        derive_root_identity(blank)  # type: ignore[arg-type]
    with pytest.raises(IdentityError):
        argon2_master(blank)  # type: ignore[arg-type]
