"""A signed HTTP client for Starfish servers: it signs exactly the bytes it sends.

The official SDKs sign the path without the base URL's path part and so fail against a `/v1` mount
(notes/official-servers.md). This client builds the `httpx.Request` first, then signs what that request
will put on the wire: the method, the path as the server decodes it (mount prefix included) plus the raw
query, the exact body bytes, and the Host header; with a fresh nonce each time.

Blob uploads: by default the signature covers the real bytes (what the reference server requires). The
official servers hash an empty body for non-JSON media types; pass `official_blob_signing=True` to
sign that way against them.

    client = StarfishClient("http://127.0.0.1:8000/v1")
    client.push(f"users/{dev.identity}/notes", {"a": 1}, device=dev)      # POST /v1/push/users/.../notes
    client.pull(f"users/{dev.identity}/notes", device=dev).json()
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlencode

import httpx

from conformance.identities import Device
from protocol.author import sign_append_author, sign_doc_author
from protocol.signing import auth_headers

_UNSET: Any = object()


def compact_json(value: Any) -> bytes:
    return jsonlib.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class StarfishClient:
    def __init__(self, base_url: str, *, timeout: float = 10.0, official_blob_signing: bool = False,
                 client: httpx.Client | None = None) -> None:
        """`base_url` includes the mount prefix, e.g. `http://127.0.0.1:8000/v1`."""
        self.base_url = base_url.rstrip("/")
        self.official_blob_signing = official_blob_signing
        self.http = client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> StarfishClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ core

    def build(
        self,
        method: str,
        path: str,
        *,
        query: str | Mapping[str, Any] | None = None,
        body: bytes | None = None,
        json: Any = _UNSET,
        device: Device | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        ts_ms: int | None = None,
        nonce: str | None = None,
    ) -> httpx.Request:
        """A ready-to-send request for `base_url/path`; signed when `device` is given.

        `json` is serialised compactly (and sets `Content-Type: application/json` unless given);
        `body` is sent as is. `ts_ms`/`nonce` override the fresh values (negative tests).
        """
        if json is not _UNSET:
            body = compact_json(json)
            content_type = content_type or "application/json"
        url = self.base_url + "/" + path.lstrip("/")
        if query:
            url += "?" + (query if isinstance(query, str) else urlencode(query))
        all_headers: dict[str, str] = {}
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        if headers:
            all_headers.update(headers)
        request = self.http.build_request(method, url, content=body, headers=all_headers)
        if device is not None:
            request.headers.update(self.sign(request, device, ts_ms=ts_ms, nonce=nonce))
        return request

    def sign(self, request: httpx.Request, device: Device, *, ts_ms: int | None = None,
             nonce: str | None = None) -> dict[str, str]:
        """The auth headers for exactly this request (path as the server decodes it, raw query, body, Host)."""
        raw = request.url.raw_path.decode("ascii")
        path, sep, query = raw.partition("?")
        path_and_query = unquote(path) + (sep + query if query else "")
        content_type = request.headers.get("content-type") if self.official_blob_signing else None
        return auth_headers(device.cert, device.key, request.method, path_and_query, request.content,
                            host=request.headers["host"], content_type=content_type, ts_ms=ts_ms, nonce=nonce,
                            presenter_pub=device.sends_pub)

    def send(self, request: httpx.Request) -> httpx.Response:
        return self.http.send(request)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.send(self.build(method, path, **kwargs))

    # ------------------------------------------------------------- shortcuts

    def pull(self, path: str, *, device: Device | None = None, query: Any = None, **kwargs: Any) -> httpx.Response:
        """GET /pull/<path>."""
        return self.request("GET", "pull/" + path, device=device, query=query, **kwargs)

    def push(self, path: str, data: Any, *, base_hash: str | None = None, device: Device | None = None,
             author: Device | None = None, document_key: str | None = None, **kwargs: Any) -> httpx.Response:
        """POST /push/<path> with `{data, baseHash}`; `author` adds a document author proof."""
        body: dict[str, Any] = {"data": data, "baseHash": base_hash}
        if author is not None:
            body.update(sign_doc_author(author.key, document_key or path, data))
        return self.request("POST", "push/" + path, json=body, device=device, **kwargs)

    def append(self, path: str, data: Any, *, device: Device | None = None, author: Device | None = _UNSET,
               ts: int | None = None, document_key: str | None = None, **kwargs: Any) -> httpx.Response:
        """POST /push/<path> on an append-only collection; signs an author proof with `author` (default: device)."""
        body: dict[str, Any] = {"data": data}
        if ts is not None:
            body["ts"] = ts
        signer = device if author is _UNSET else author
        if signer is not None:
            body.update(sign_append_author(signer.key, document_key or path, data))
        return self.request("POST", "push/" + path, json=body, device=device, **kwargs)

    def list(self, path: str, *, device: Device | None = None, query: Any = None, **kwargs: Any) -> httpx.Response:
        """GET /list/<path>."""
        return self.request("GET", "list/" + path, device=device, query=query, **kwargs)

    def batch(self, collections: Sequence[str], *, params: Any = None, append_params: Any = None,
              device: Device | None = None, **kwargs: Any) -> httpx.Response:
        """GET /batch/pull with `collections`, `params` and `appendParams` (JSON-encoded)."""
        query: dict[str, str] = {"collections": ",".join(collections)}
        if params is not None:
            query["params"] = params if isinstance(params, str) else jsonlib.dumps(params)
        if append_params is not None:
            query["appendParams"] = append_params if isinstance(append_params, str) else jsonlib.dumps(append_params)
        return self.request("GET", "batch/pull", device=device, query=query, **kwargs)
