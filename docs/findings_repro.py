"""Minimal, re-signable reproducers for docs/findings.md.

    .venv/bin/python docs/findings_repro.py TARGET [FINDING...]

TARGET is any `--target` form (reference, starfish-server-py, starfish-server-ts, image:..., url:...).
Each reproducer starts from fresh keys, so every request is signed anew (fresh nonce, current time);
it prints what the server answered and whether that follows the protocol. Without FINDING, all run.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from conformance.client import StarfishClient
from conformance.identities import Device, member, paired_device, root_device, scope
from conformance.targets import parse_target
from protocol.canonical_json import stable_stringify
from protocol.capcert import build_cap_cert
from protocol.hashing import document_hash
from protocol.keys import KemKey, SigningKey
from protocol.signing import auth_headers

FINDINGS: dict[str, Callable[[StarfishClient], bool]] = {}


def finding(anchor: str) -> Callable[[Callable[[StarfishClient], bool]], Callable[[StarfishClient], bool]]:
    def register(func: Callable[[StarfishClient], bool]) -> Callable[[StarfishClient], bool]:
        FINDINGS[anchor] = func
        return func

    return register


def show(label: str, response) -> None:  # type: ignore[no-untyped-def]
    print(f"  {label}: {response.request.method} {response.request.url.raw_path.decode()} -> "
          f"{response.status_code} {response.content[:160]!r}")


def _tag() -> str:
    import secrets

    return secrets.token_hex(5)


@finding("public-fast-path")
def public_fast_path(client: StarfishClient) -> bool:
    device = root_device()
    garbage = device.with_cert({**device.cert, "sig": "AAAA"})
    response = client.push(f"guestbook/g-{_tag()}", {"hi": 1}, device=garbage)
    show("push to a public-write collection with a badly signed cap", response)
    return response.status_code == 401


@finding("self-ignores-cap-scope")
def self_ignores_cap_scope(client: StarfishClient) -> bool:
    owner = root_device(scope(["notes"], ["read", "write"]))
    path = f"users/{owner.identity}/notes"
    first = client.push(path, {"v": 1}, device=owner).json()
    read_only = paired_device(owner.key, scope(["notes"], ["read"]))
    response = client.push(path, {"v": 2}, base_hash=first["hash"], device=read_only)
    show("push by a device whose cap grants only read", response)
    return response.status_code == 403


@finding("blob-signing-empty-body")
def blob_signing_empty_body(client: StarfishClient) -> bool:
    device = root_device(scope(["files"], ["read", "write"]))
    path = f"files/{device.identity}/f-{_tag()}"
    real = b"\x89PNG real bytes"
    request = client.build("POST", "push/" + path, body=real, content_type="image/png")
    raw = request.url.raw_path.decode()
    request.headers.update(auth_headers(device.cert, device.key, "POST", raw, real, host=request.headers["host"]))
    honest = client.send(request)
    show("blob upload signed over its real bytes (the documents' rule)", honest)
    request = client.build("POST", "push/" + path + "x", body=b"swapped", content_type="image/png")
    raw = request.url.raw_path.decode()
    request.headers.update(auth_headers(device.cert, device.key, "POST", raw, b"", host=request.headers["host"]))
    swapped = client.send(request)
    show("blob upload signed over an EMPTY body, carrying other bytes", swapped)
    return honest.status_code == 200 and swapped.status_code == 401


@finding("checkpoint-zero")
def checkpoint_zero(client: StarfishClient) -> bool:
    device = root_device(scope(["events"], ["read", "write"]))
    path = f"rooms/r-{_tag()}/events"
    for ts in (0, 5):
        show(f"append at ts {ts}", client.append(path, {"ts": ts}, device=device, ts=ts))
    response = client.pull(path, device=device, query={"checkpoint": 0})
    show("pull ?checkpoint=0", response)
    return [e.get("ts") for e in response.json().get("data", {}).get("items", [])] == [5]


@finding("pull-only-push-only-404")
def pull_only_404(client: StarfishClient) -> bool:
    response = client.push(f"announcements/a-{_tag()}", {"x": 1}, device=root_device())
    show("push to a pullOnly collection", response)
    return response.status_code == 405


@finding("big-integral-doubles")
def big_integral_doubles(client: StarfishClient) -> bool:
    device = root_device(scope(["shared"], ["read", "write"]))
    data = {"n": 2**60}
    response = client.push(f"shared/s-{_tag()}", data, device=device)
    show(f"push {stable_stringify(data)} (canonical text, JavaScript's rule)", response)
    return response.json().get("hash") == document_hash(data)


@finding("lone-surrogate-500")
def lone_surrogate(client: StarfishClient) -> bool:
    device = root_device(scope(["shared"], ["read", "write"]))
    response = client.request("POST", f"push/shared/s-{_tag()}", body=b'{"data":{"s":"\\ud800"},"baseHash":null}',
                              content_type="application/json", device=device)
    show("push a string holding a lone surrogate escape", response)
    return response.status_code < 500


@finding("conflict-without-current-hash")
def conflict_without_current_hash(client: StarfishClient) -> bool:
    device = root_device(scope(["shared"], ["read", "write"]))
    path = f"shared/s-{_tag()}"
    client.push(path, {"v": 1}, device=device)
    response = client.push(path, {"v": 2}, base_hash="0" * 64, device=device)
    show("push with a stale baseHash", response)
    return response.status_code == 409 and response.json().get("currentHash") == document_hash({"v": 1})


@finding("percent-encoded-path-signing")
def percent_encoded_path(client: StarfishClient) -> bool:
    device = root_device(scope(["shared"], ["read", "write"]))
    name = f"d-{_tag()}"
    client.push(f"shared/{name}", {"v": 1}, device=device)
    response = client.pull(f"shared/%64{name[1:]}", device=device)  # signs the decoded path /v1/pull/shared/d-...
    show("pull /pull/shared/%64-... signed over the decoded path", response)
    return response.status_code == 200


@finding("unpadded-cap-nonce")
def unpadded_cap_nonce(client: StarfishClient) -> bool:
    import time

    key = SigningKey.generate()
    now = int(time.time())
    cert = build_cap_cert(issuer=key, kind="device", sub=key.pub, sub_kem=KemKey.generate().pub,
                          scope=scope(["shared"], ["read"]), nbf=now - 60, exp=now + 3600,
                          nonce="AAAAAAAAAAAAAAAAAAAAAA")  # 16 bytes, base64 without its '==' padding
    device = Device(key, cert, key)
    response = client.pull(f"shared/s-{_tag()}", device=device)
    show("pull with a cap whose nonce is unpadded base64", response)
    return response.status_code == 401


@finding("member-shape-401")
def member_shape(client: StarfishClient) -> bool:
    reader = member(SigningKey.generate(), "shared", None)
    response = client.pull(f"shared/s-{_tag()}", device=reader)
    show("pull with a member cap that has no scope.paths", response)
    return response.status_code == 403


@finding("non-json-404-no-405")
def non_json_404(client: StarfishClient) -> bool:
    unknown = client.request("GET", "nope")
    show("GET an unknown route", unknown)
    wrong = client.request("POST", f"pull/guestbook/g-{_tag()}")
    show("POST to a pull route", wrong)
    return unknown.headers.get("content-type", "").startswith("application/json") and wrong.status_code == 405


@finding("list-ignores-scope-denies")
def list_ignores_denies(client: StarfishClient) -> bool:
    group = f"g-{_tag()}"
    writer = root_device(scope(["chats"], ["write"]))
    for day in ("mon", "secret"):
        client.push(f"chats/{group}/{day}", {"d": day}, device=writer)
    denied = root_device(scope(["chats"], ["read"], [f"chats/{group}", f"chats/{group}/*", f"!chats/{group}/secret"]))
    response = client.list(f"chats/{group}", device=denied)
    show("list with a cap that denies chats/<g>/secret", response)
    return response.status_code == 200 and response.json().get("items") == ["mon"]


@finding("chunked-body-limit")
def chunked_body_limit(client: StarfishClient) -> bool:
    request = client.build("POST", f"push/tiny/t-{_tag()}", json={"data": {"pad": "y" * 300}, "baseHash": None})
    content = request.content

    def chunks():  # type: ignore[no-untyped-def]
        yield content

    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "content-length"]
    import httpx

    response = client.send(httpx.Request("POST", request.url, headers=headers, content=chunks()))
    show("push of 330 bytes, sent chunked, to a collection with maxBodyBytes 256", response)
    return response.status_code == 413


FINDINGS_ORDER = list(FINDINGS)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    spec, wanted = argv[0], argv[1:] or FINDINGS_ORDER
    target = parse_target(spec)
    running = target.start(Path(tempfile.mkdtemp(prefix="findings-")))
    try:
        official = running.details.get("blob_signing") == "empty-body"
        for anchor in wanted:
            print(f"{anchor} on {running.name}:")
            # A fresh connection pool per finding: a server that answered 500 may have closed the connection.
            with StarfishClient(running.base_url, official_blob_signing=official) as client:
                try:
                    ok = FINDINGS[anchor](client)
                except Exception as exc:  # a reproducer must report, not crash
                    print(f"  could not run: {type(exc).__name__}: {exc}")
                    continue
            print(f"  -> {'follows the protocol' if ok else 'DIVERGES from the protocol'}")
    finally:
        target.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
