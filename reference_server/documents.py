"""Regular JSON documents and binary objects: pull and push (digest §1.6, §1.8, §1.9, §1.11, §3).

A pull splices the stored JSON text into the response, so serving a document costs no re-encoding.
"""

from __future__ import annotations

import hashlib
from typing import Any

from protocol.author import verify_author
from protocol.constants import DOC_AUTHOR_DOMAIN
from protocol.hashing import document_hash, sanitize
from reference_server import errors
from reference_server.access import cache_control, filter_json, hidden_fields
from reference_server.auth import Caller
from reference_server.config import Collection
from reference_server.faults import NO_FAULTS, Faults
from reference_server.responses import Response, dumps, json_response, json_text
from reference_server.storage import Blob, Doc, Store

EMPTY_PULL = '{"data":{},"hash":"","timestamp":'


def etag_matches(if_none_match: str | None, hash_hex: str, faults: Faults = NO_FAULTS) -> bool:
    """Exact string comparison with the quoted hash (digest §1.16): no weak validators, no lists, no `*`."""
    if faults and if_none_match is not None:
        if faults.on("etag-never-304"):
            return False
        if faults.on("etag-loose-match"):
            return if_none_match.strip('"') == hash_hex
    return if_none_match is not None and if_none_match == f'"{hash_hex}"'


def etag_header(hash_hex: str, faults: Faults = NO_FAULTS) -> tuple[bytes, bytes]:
    """`ETag: "<hash>"`, quoted (digest §1.16)."""
    return b"etag", (hash_hex if faults.on("etag-unquoted") else f'"{hash_hex}"').encode("ascii")


def pull_document(
    store: Store,
    col: Collection,
    key: str,
    now: int,
    roles: frozenset[str],
    if_none_match: str | None,
    keyring_key: str | None,
    with_keyring: bool,
    faults: Faults = NO_FAULTS,
) -> Response:
    """`with_keyring` adds the keyring at `keyring_key` (`null` when missing or when the collection has none).

    The caller decides `with_keyring`: False when the cap's scope does not cover the keyring (digest §5.11).
    """
    headers = cache_control(col)
    doc = store.get_doc(key)
    if doc is not None and col.ttl_ms is not None and now - doc.ts > col.ttl_ms:
        doc = None  # expired: shown as missing, ETag dropped (digest §3.9); nothing is deleted
    if doc is None:
        text = EMPTY_PULL + str(now)
    else:
        data_json = doc.data_json
        hidden = hidden_fields(col, roles) if col.field_permissions else None
        if hidden:
            data_json = filter_json(data_json, hidden)
        text = f'{{"data":{data_json},"hash":"{doc.hash}","timestamp":{now}'
        if doc.author_pubkey is not None:
            text += f',"authorPubkey":{dumps(doc.author_pubkey)},"authorSignature":{dumps(doc.author_signature)}'
    if with_keyring:
        keyring = store.get_doc(keyring_key) if keyring_key is not None else None
        if keyring is None:
            text += ',"keyring":null'
        else:
            text += f',"keyring":{{"data":{keyring.data_json},"hash":"{keyring.hash}","timestamp":{now}}}'
    text += "}"
    if doc is not None:
        if etag_matches(if_none_match, doc.hash, faults):
            return Response(304)
        headers.append(etag_header(doc.hash, faults))
    return json_text(200, text, headers)


def push_document(
    store: Store, key: str, body: dict[str, Any], caller: Caller, now: int, faults: Faults = NO_FAULTS
) -> Response:
    """Replace the document if `baseHash` names the current version (digest §3.6, §3.8)."""
    data = body.get("data")
    if not isinstance(data, dict):
        return errors.error(400, errors.MISSING_DATA)
    base_hash = body.get("baseHash")
    if base_hash is not None and not isinstance(base_hash, str):
        return errors.error(400, errors.BASE_HASH_TYPE)
    if not faults.on("unsafe-keys-kept"):
        data = sanitize(data)
    author_pubkey, author_signature = body.get("authorPubkey"), body.get("authorSignature")
    if author_pubkey is not None or author_signature is not None:
        if not isinstance(author_pubkey, str) or not isinstance(author_signature, str):
            return errors.error(400, errors.DOC_AUTHOR_FIELDS)
        if caller.presenter is not None and author_pubkey != caller.presenter:
            return errors.error(403, errors.DOC_AUTHOR_NOT_PRESENTER)
        if not verify_author(author_pubkey, author_signature, key, data, domain=DOC_AUTHOR_DOMAIN):
            return errors.error(403, errors.DOC_AUTHOR_BAD_SIGNATURE)
    current = store.get_doc(key)
    # null/absent baseHash: only for a new document. A string: must equal the current hash ("" if none).
    conflict = (current is not None and base_hash != current.hash) or (current is None and base_hash not in (None, ""))
    if faults and (faults.on("basehash-ignored") or (faults.on("null-basehash-overwrites") and base_hash is None)):
        conflict = False
    if conflict:
        if faults.on("conflict-without-current-hash"):
            return errors.error(409, errors.HASH_MISMATCH)
        return errors.error(409, errors.HASH_MISMATCH, currentHash=current.hash if current else "")
    new_hash = faults.document_hash(data) if faults else document_hash(data)
    store.put_doc(key, Doc(dumps(data), new_hash, now, author_pubkey, author_signature))
    return json_text(200, f'{{"hash":"{new_hash}","timestamp":{now}}}')


def pull_blob(store: Store, col: Collection, key: str, if_none_match: str | None,
              faults: Faults = NO_FAULTS) -> Response:
    blob = store.get_blob(key)
    if blob is None:
        return Response(404)
    if etag_matches(if_none_match, blob.hash, faults):
        return Response(304)
    headers = [(b"content-type", blob.media_type.encode("latin-1")), etag_header(blob.hash, faults)]
    headers.extend(cache_control(col))
    return Response(200, blob.body, headers)


def push_blob(store: Store, key: str, body: bytes, content_type: str) -> Response:
    """Overwrite unconditionally (no baseHash for blobs, digest §1.11)."""
    digest = hashlib.sha256(body).hexdigest()
    store.put_blob(key, Blob(content_type.split(";", 1)[0].strip(), body, digest))
    return json_response(200, {"hash": digest})
