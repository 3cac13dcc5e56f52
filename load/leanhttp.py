"""A lean HTTP/1.1 keep-alive client for the Locust user: one socket, our own request bytes.

Locust's `FastHttpUser` (geventhttpclient) spent about 0.6 ms of CPU per request on header
validation, response objects and `catch_response` bookkeeping, so the generator measured itself. This
client writes the request bytes it is given (`load/wire.py` builds them, signed over exactly those
bytes), reads the status line, the headers and a `Content-Length` (or chunked) body, and nothing
else. Under Locust the standard library's sockets are gevent's (Locust monkey-patches at import), so
a blocked read yields to the other users.

No request is ever resent: a signed request carries a fresh nonce, and a write that may have reached
the server must stay "outcome unknown" for the audit. A transport failure is returned as status 0
(with the exception) and the next request opens a new connection. A connection idle long enough for
the server to have closed it is checked (non-blocking peek) before it is reused.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time

IDLE_CHECK_S = 1.0  # reuse after this much idle time only if the peer has not closed the connection
_CHUNK = 65536


class LeanConnection:
    """One keep-alive connection to host:port (a user's whole session)."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0, connect_timeout: float = 10.0,
                 tls: bool = False) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.sock: socket.socket | None = None
        self.buf = b""
        self.last_used = 0.0

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
        self.sock = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:  # https targets (only reachable with --allow-remote): verified TLS, SNI from the host
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        sock.settimeout(self.timeout)
        self.sock = sock
        self.buf = b""
        return sock

    def _stale(self, sock: socket.socket) -> bool:
        """After an idle spell: has the server closed (or written to) this connection?"""
        try:
            sock.setblocking(False)
            try:
                # Peek at the raw socket (an SSLSocket refuses recv flags): any byte or EOF means stale.
                return socket.socket.recv(sock, 1, socket.MSG_PEEK) is not None
            finally:
                sock.settimeout(self.timeout)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def request(self, data: bytes, head_only: bool = False) -> tuple[int, bytes]:
        """Send `data` (a whole request) and return (status, body). Raises OSError/ValueError on failure."""
        sock = self.sock
        now = time.monotonic()
        if sock is not None and now - self.last_used > IDLE_CHECK_S and self._stale(sock):
            self.close()
            sock = None
        if sock is None:
            sock = self._connect()
        try:
            sock.sendall(data)
            status, body, keep = self._read(sock, head_only)
        except BaseException:
            self.close()
            raise
        if not keep:
            self.close()
        self.last_used = time.monotonic()
        return status, body

    def _read(self, sock: socket.socket, head_only: bool) -> tuple[int, bytes, bool]:
        buf = self.buf
        recv = sock.recv
        end = buf.find(b"\r\n\r\n")
        while end < 0:
            more = recv(_CHUNK)
            if not more:
                raise ConnectionResetError("connection closed before the response head")
            buf += more
            end = buf.find(b"\r\n\r\n", max(len(buf) - len(more) - 3, 0))
        head = buf[:end].decode("latin-1")
        buf = buf[end + 4:]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ValueError(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        length = -1
        chunked = False
        keep = parts[0] != "HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "connection":
                token = value.strip().lower()
                keep = token == "keep-alive" if not keep else token != "close"
        if head_only or status in (204, 304) or 100 <= status < 200:
            self.buf = buf
            return status, b"", keep
        if chunked:
            body, buf = self._chunked(recv, buf)
        elif length >= 0:
            while len(buf) < length:
                more = recv(max(_CHUNK, length - len(buf)))
                if not more:
                    raise ConnectionResetError("connection closed inside the response body")
                buf += more
            body, buf = buf[:length], buf[length:]
        else:  # no length: the body runs to the end of the connection
            chunks = [buf]
            while more := recv(_CHUNK):
                chunks.append(more)
            body, buf, keep = b"".join(chunks), b"", False
        self.buf = buf
        return status, body, keep

    @staticmethod
    def _chunked(recv: object, buf: bytes) -> tuple[bytes, bytes]:
        read = recv  # type: ignore[assignment]
        chunks = []

        def fill(size: int) -> None:
            nonlocal buf
            while len(buf) < size:
                more = read(_CHUNK)  # type: ignore[operator]
                if not more:
                    raise ConnectionResetError("connection closed inside a chunked body")
                buf += more

        while True:
            line_end = buf.find(b"\r\n")
            while line_end < 0:
                fill(len(buf) + 1)
                line_end = buf.find(b"\r\n")
            size = int(buf[:line_end].split(b";", 1)[0].strip() or b"0", 16)
            buf = buf[line_end + 2:]
            if size == 0:  # trailers end with an empty line
                while True:
                    line_end = buf.find(b"\r\n")
                    while line_end < 0:
                        fill(len(buf) + 1)
                        line_end = buf.find(b"\r\n")
                    line, buf = buf[:line_end], buf[line_end + 2:]
                    if not line:
                        return b"".join(chunks), buf
            fill(size + 2)
            chunks.append(buf[:size])
            buf = buf[size + 2:]
