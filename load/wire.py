"""The exact bytes of a signed request: one place builds the path, body and headers every client sends.

The signature covers exactly what goes on the wire: the path with the mount prefix and raw query,
the SHA-256 of the body bytes, the Host header, a fresh timestamp and a fresh nonce (digest §5.4).
Nothing is pre-signed: the timestamp and nonce are per request, so a signature is made right before
its request is sent (about 50 µs), which is the only honest form of pre-signing here (the Cap header
is computed once per key).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from protocol.author import sign_append_author
from protocol.signing import Credential

JSON = "application/json"


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Wire:
    """Paths and signed headers for one server (base URL with its mount prefix)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host = parts.netloc  # what an HTTP/1.1 client puts in Host for this URL
        self.prefix = parts.path.rstrip("/")

    def push_path(self, key: str) -> str:
        return f"/push/{key}"

    def pull_path(self, key: str, query: str = "") -> str:
        return f"/pull/{key}" + (f"?{query}" if query else "")

    def signed(self, credential: Credential, method: str, path: str, body: bytes = b"") -> dict[str, str]:
        """Headers for `method path` (relative to the prefix) with exactly `body`."""
        content_type = JSON if method == "POST" else None
        headers = credential.headers(method, self.prefix + path, body, host=self.host, content_type=content_type)
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def request(self, credential: Credential, method: str, path: str, body: bytes = b"") -> bytes:
        """The whole HTTP/1.1 request (head and body) for `method path`, signed over exactly these bytes:
        the Host, target, Content-Type and body written here are the ones the signature covers."""
        content_type = JSON if method == "POST" else None
        target = self.prefix + path
        headers = credential.headers(method, target, body, host=self.host, content_type=content_type)
        parts = [f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n"]
        parts += [f"{name}: {value}\r\n" for name, value in headers.items()]
        if content_type:
            parts.append(f"Content-Type: {content_type}\r\n")
        if body or method in ("POST", "PUT", "PATCH"):
            parts.append(f"Content-Length: {len(body)}\r\n")
        parts.append("\r\n")
        return "".join(parts).encode("latin-1") + body


def push_body(data: dict[str, Any], base_hash: str | None) -> bytes:
    return dumps({"data": data, "baseHash": base_hash})


def append_body(credential: Credential, document_key: str, data: dict[str, Any]) -> bytes:
    """An append with its author proof: the presenter's key over the document key and the data."""
    return dumps({"data": data, **sign_append_author(credential.key, document_key, data)})
