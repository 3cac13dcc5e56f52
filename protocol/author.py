"""Author proofs (digest §3.8, §4.2, §5.3(c)(d)): a signature binding written data to its author and document.

Binding the document key stops a signed element from being replayed under another key. Appended
elements use the append domain; whole documents the doc domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protocol.canonical_json import stable_stringify
from protocol.constants import APPEND_AUTHOR_DOMAIN, DOC_AUTHOR_DOMAIN, FIELD_AUTHOR_PUBKEY, FIELD_AUTHOR_SIGNATURE
from protocol.encoding import EncodingError, b64decode, b64encode
from protocol.errors import rejects_garbage
from protocol.keys import SigningKey, verify_ed25519


@rejects_garbage()
def author_signing_input(domain: str, document_key: str, data: Any) -> str:
    return domain + stable_stringify({"k": document_key, "d": data})


@rejects_garbage()
def sign_author(key: SigningKey, document_key: str, data: Any, *, domain: str = APPEND_AUTHOR_DOMAIN) -> dict[str, str]:
    """The `{authorPubkey, authorSignature}` fields to merge into a push body."""
    message = author_signing_input(domain, document_key, data).encode("utf-8")
    return {FIELD_AUTHOR_PUBKEY: key.pub, FIELD_AUTHOR_SIGNATURE: b64encode(key.sign(message))}


@rejects_garbage(returns=False)
def verify_author(
    pub_hex: str, signature_b64: str, document_key: str, data: Any, *, domain: str = APPEND_AUTHOR_DOMAIN
) -> bool:
    """True when the proof verifies; never raises."""
    if not isinstance(pub_hex, str) or not isinstance(signature_b64, str):
        return False
    try:
        raw = b64decode(signature_b64, what="author signature")
    except EncodingError:
        return False
    return verify_ed25519(pub_hex, raw, author_signing_input(domain, document_key, data).encode("utf-8"))


@rejects_garbage()
def sign_append_author(key: SigningKey, document_key: str, data: Any) -> dict[str, str]:
    return sign_author(key, document_key, data, domain=APPEND_AUTHOR_DOMAIN)


@rejects_garbage()
def sign_doc_author(key: SigningKey, document_key: str, data: Any) -> dict[str, str]:
    return sign_author(key, document_key, data, domain=DOC_AUTHOR_DOMAIN)


@rejects_garbage()
def proof_of(body: Mapping[str, Any]) -> tuple[Any, Any]:
    """The `(authorPubkey, authorSignature)` pair of a push body, either possibly missing."""
    return body.get(FIELD_AUTHOR_PUBKEY), body.get(FIELD_AUTHOR_SIGNATURE)
