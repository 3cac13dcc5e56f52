"""Collection modes: pullOnly, pushOnly, binary (non-JSON) collections, delegated encryption and rate limits
(digest §1.8, §1.11, §6.2, §6.3, §8, §10.2).

Profile collections used: `announcements` (pullOnly), `inbox` (pushOnly), `files` (binary, `image/*` and
`application/octet-stream`, public read, self write), `vault` (delegated, keyring at `vault/{identity}/_keyring`)
and `limited` (one push per minute).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time

import pytest

from conformance.checks import MUST, check
from conformance.profile import collection
from conformance.suite.support import body_json, expect_error, expect_ok, expect_status, fresh, root
from protocol.hashing import document_hash
from protocol.keyring import decrypt_document, encrypt_json, unwrap, wrap_for_recipient

READ_ONLY = "This collection is read-only on this server"
WRITE_ONLY = "This collection is write-only on this server"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))  # not UTF-8, every byte value


# ------------------------------------------------------------------------------------ pullOnly / pushOnly


@check("modes.pull-only.push-405", level=MUST,
       rule='A push to a pullOnly collection gets 405 "This collection is read-only on this server", even from a '
            "caller holding its writeRoles, and stores nothing",
       source="http-errors.json read_only_push (405). The official 3.0.0a72 server answers 404 (route not "
              "registered, digest §6.2, §6.3, §11 row 5); this check follows the vector")
def test_pull_only_push(client):
    doc = f"announcements/{fresh()}"
    for device in (None, root(("announcements",))):
        body = expect_error(client.push(doc, {"a": 1}, device=device), 405, READ_ONLY)
        assert body == {"error": READ_ONLY}, body
    assert expect_ok(client.pull(doc)).get("hash") == "", "a refused push stored data"


@check("modes.pull-only.pull-allowed", level=MUST, rule="A pullOnly collection still serves pulls",
       source="digest §1.2 (pull route present unless pushOnly)")
def test_pull_only_pull(client):
    body = expect_ok(client.pull(f"announcements/{fresh()}"))
    assert body.get("data") == {} and body.get("hash") == "", body


@check("modes.push-only.pull-405", level=MUST,
       rule='A pull from a pushOnly collection gets 405 "This collection is write-only on this server", even '
            "from a caller holding its readRoles",
       source="http-errors.json write_only_pull (405). The official 3.0.0a72 server answers 404 (route not "
              "registered, digest §6.2, §6.3, §11 row 5); this check follows the vector")
def test_push_only_pull(client):
    device = root(("inbox",))
    doc = f"inbox/{fresh()}"
    expect_ok(client.push(doc, {"secret": 1}, device=device))
    for caller in (None, device):
        body = expect_error(client.pull(doc, device=caller), 405, WRITE_ONLY)
        assert body == {"error": WRITE_ONLY}, body


@check("modes.push-only.push-allowed", level=MUST,
       rule="A pushOnly collection still accepts pushes (with the usual baseHash rules)",
       source="digest §1.2 (push route present unless pullOnly), §3.6")
def test_push_only_push(client):
    device = root(("inbox",))
    doc = f"inbox/{fresh()}"
    first = expect_ok(client.push(doc, {"m": 1}, device=device))
    assert first.get("hash") == document_hash({"m": 1}), first
    conflict = expect_error(client.push(doc, {"m": 2}, device=device), 409, "hash_mismatch")
    assert conflict.get("currentHash") == first["hash"], conflict


# ----------------------------------------------------------------------------------------------- binary


def _file(device) -> str:
    return f"files/{device.identity}/{fresh('f')}"


def _files_device():
    return root(("files",))


def _push_blob(client, path, raw, content_type, device):
    return client.request("POST", f"push/{path}", body=raw, content_type=content_type, device=device)


@check("modes.binary.roundtrip", level=MUST,
       rule="A binary push stores the raw bytes: 200 {hash: sha256(bytes)} with no timestamp; the pull returns "
            'the same bytes with the stored Content-Type and ETag "<sha256>"',
       source="digest §1.8, §1.11 [V], §3.3")
@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream", "image/webp"])
def test_binary_roundtrip(client, content_type):
    device = _files_device()
    path = _file(device)
    raw = PNG_BYTES + secrets.token_bytes(64)
    digest = hashlib.sha256(raw).hexdigest()
    body = expect_ok(_push_blob(client, path, raw, content_type, device))
    assert body == {"hash": digest}, f"binary push body {body}, expected exactly {{'hash': sha256}}"
    response = expect_status(client.pull(path), 200)
    assert response.content == raw, f"pulled {len(response.content)} bytes, pushed {len(raw)} (or they differ)"
    assert response.headers.get("content-type") == content_type, response.headers
    assert response.headers.get("etag") == f'"{digest}"', response.headers


@check("modes.binary.media-type-params-stripped", level=MUST,
       rule="A binary object is stored under its media type with parameters stripped",
       source="digest §1.11 ('stored under the media type (parameters stripped)')")
def test_binary_params_stripped(client):
    device = _files_device()
    path = _file(device)
    expect_ok(_push_blob(client, path, b"\x00\x01\x02", "application/octet-stream; name=x.bin", device))
    response = expect_status(client.pull(path), 200)
    assert response.headers.get("content-type") == "application/octet-stream", response.headers
    assert response.content == b"\x00\x01\x02", response.content


@check("modes.binary.missing-404-empty", level=MUST,
       rule="A pull of a missing binary object gets 404 with an empty body",
       source="digest §1.8 [V], §12.8")
def test_binary_missing(client):
    response = expect_status(client.pull(f"files/{root().identity}/{fresh('f')}"), 404)
    assert response.content == b"", f"expected an empty body, got {response.content[:200]!r}"


@check("modes.binary.if-none-match-304", level=MUST,
       rule="If-None-Match equal to a binary object's ETag gives 304 with an empty body; another value gives 200",
       source="digest §1.8 [V], §1.16, §12.9")
def test_binary_304(client):
    device = _files_device()
    path = _file(device)
    raw = PNG_BYTES
    digest = hashlib.sha256(raw).hexdigest()
    expect_ok(_push_blob(client, path, raw, "image/png", device))
    response = expect_status(client.pull(path, headers={"If-None-Match": f'"{digest}"'}), 304)
    assert response.content == b"", response.content[:200]
    other = expect_status(client.pull(path, headers={"If-None-Match": f'"{hashlib.sha256(b"x").hexdigest()}"'}), 200)
    assert other.content == raw


@check("modes.binary.overwrite-unconditional", level=MUST,
       rule="A binary push overwrites the stored object unconditionally (no baseHash, no conflict)",
       source="digest §1.11")
def test_binary_overwrite(client):
    device = _files_device()
    path = _file(device)
    expect_ok(_push_blob(client, path, b"first", "application/octet-stream", device))
    second = expect_ok(_push_blob(client, path, b"second version", "image/gif", device))
    assert second == {"hash": hashlib.sha256(b"second version").hexdigest()}, second
    response = expect_status(client.pull(path), 200)
    assert response.content == b"second version" and response.headers.get("content-type") == "image/gif", \
        (response.content[:100], response.headers)


@check("modes.binary.disallowed-415", level=MUST,
       rule="A binary push whose media type matches none of allowedMimeTypes gets 415 \"Content-Type '<sent>' is "
            'not allowed. Allowed: [...]" (Python list repr) and stores nothing',
       source="digest §1.11, §1.15 [V]")
@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "video/mp4", "text/plain; charset=utf-8",
                                          "imagex/png"])
def test_binary_disallowed(client, content_type):
    device = _files_device()
    path = _file(device)
    allowed = collection("files")["allowedMimeTypes"]
    expected = f"Content-Type '{content_type}' is not allowed. Allowed: {allowed!r}"
    body = expect_error(_push_blob(client, path, b"\x01\x02", content_type, device), 415, expected)
    assert body == {"error": expected}, body
    expect_status(client.pull(path), 404)


# -------------------------------------------------------------------------------------------- delegated


def _vault_device():
    return root(("vault",))


@check("modes.delegated.ciphertext-opaque", level=MUST,
       rule="A delegated collection stores the client's {_encrypted, _epoch} wrapper opaquely: the pull returns it "
            "unchanged, the hash is over the wrapper, and it still decrypts",
       source="digest §8.1 [R][V]; seeds/001 (Encryption docs)")
def test_delegated_opaque(client):
    device = _vault_device()
    path = f"vault/{device.identity}/{fresh('item')}"
    cek = secrets.token_bytes(32)
    plaintext = {"title": "secret note", "body": "ünïcode ✓", "n": [1, 2]}
    wrapper = encrypt_json(plaintext, cek, 1)
    pushed = expect_ok(client.push(path, wrapper, device=device))
    assert pushed.get("hash") == document_hash(wrapper), pushed
    pulled = expect_ok(client.pull(path, device=device))
    assert pulled.get("data") == wrapper, f"the server altered the ciphertext wrapper: {pulled}"
    assert pulled.get("hash") == document_hash(wrapper), pulled
    assert json.loads(decrypt_document(pulled["data"], cek)) == plaintext


@check("modes.delegated.keyring-at-profile-path", level=MUST,
       rule="The keyring document is stored and served as an ordinary document where the profile places it "
            "(vault/{identity}/_keyring); its wrapped key opens the collection's ciphertext",
       source="digest §8.2; profile keyringPath vault/{identity}/_keyring; seeds/000 README "
              "('a plaintext per-collection keyring document')")
def test_delegated_keyring(client):
    device = _vault_device()
    cek = secrets.token_bytes(32)
    entry = wrap_for_recipient(cek, device.kem.pub, adder=device.key, added_at=int(time.time()), epoch=1)
    keyring = {"v": 1, "currentEpoch": 1, "epochs": {"1": {"wrappedKeys": [entry], "createdAt": int(time.time())}}}
    keyring_path = collection("vault")["keyringPath"].replace("{identity}", device.identity)
    pushed = expect_ok(client.push(keyring_path, keyring, device=device))
    assert pushed.get("hash") == document_hash(keyring), pushed
    item = f"vault/{device.identity}/{fresh('item')}"
    expect_ok(client.push(item, encrypt_json({"hello": "world"}, cek, 1), device=device))

    pulled = expect_ok(client.pull(keyring_path, device=device))
    assert pulled.get("data") == keyring and pulled.get("hash") == pushed["hash"], pulled
    wrapped = pulled["data"]["epochs"]["1"]["wrappedKeys"][0]
    recovered = unwrap(wrapped, device.kem)
    item_body = expect_ok(client.pull(item, device=device))
    assert json.loads(decrypt_document(item_body.get("data", {}), recovered)) == {"hello": "world"}
    # the keyring is still an ordinary document: baseHash rules apply
    conflict = expect_error(client.push(keyring_path, keyring, device=device), 409, "hash_mismatch")
    assert conflict.get("currentHash") == pushed["hash"], conflict


# ------------------------------------------------------------------------------------------- rate limit


@check("modes.rate-limit.push-429", level=MUST,
       rule='Pushes over a collection\'s push rate limit get 429 {"error":"Rate limit exceeded"}; the collection\'s '
            "pulls and other collections are not limited by that rule",
       source="digest §10.2, §6.2; http-errors.json rate_limited; profile collection limited (1 push per minute)")
def test_rate_limit(client):
    statuses = []
    for _ in range(3):
        response = client.push(f"limited/{fresh()}", {"a": 1})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert body_json(response) == {"error": "Rate limit exceeded"}, response.content[:200]
    # maxRequests is 1: at most one of the pushes is admitted (none if this target served one this minute)
    assert statuses.count(200) <= 1 and statuses[1:] == [429, 429], f"push statuses {statuses}"
    expect_ok(client.pull(f"limited/{fresh()}"))
    expect_ok(client.push(f"guestbook/{fresh()}", {"a": 1}))
