"""The ASGI application: routing under the mount prefix, the per-route check order, and the catch-all.

Raw ASGI (no framework) keeps the hot path short: a signed push is one header scan, one cached cap
lookup, one Ed25519 verify, one JSON parse, one canonical hash and one store write.

Check order per route (digest §6.1): routing (404/405) and path-param charset (400) before any auth;
then authentication (401/403/413/503), the role check (403), the key-safety check (400), the body
limit (413), the rate limit (429), the Content-Type (415) and the body itself (400/403/409).

No input produces a 500 with a traceback: an unexpected exception is logged with its stack here and
answered `500 {"error":"Internal error"}`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jsonschema

from protocol.signing import now_ms
from reference_server import errors
from reference_server.access import READ, WRITE, allowed, effective_roles, forbidden_field
from reference_server.append_log import pull_append, push_append
from reference_server.auth import Authenticator, AuthError, Caller, ClientGone, anonymous, read_body
from reference_server.batch import batch_pull
from reference_server.bodies import is_json_media_type, media_type, mime_allowed, parse_json_object
from reference_server.config import PUBLIC, Collection, ServerConfig
from reference_server.documents import pull_blob, pull_document, push_blob, push_document
from reference_server.faults import NO_FAULTS, Faults, StaleReadStore
from reference_server.listing import list_documents, parse_limit
from reference_server.nonce_cache import NonceCache
from reference_server.openapi import build_openapi
from reference_server.ratelimit import RateLimiter
from reference_server.responses import Response, dumps, json_response, json_text
from reference_server.revocations import RevocationRejected, Revocations
from reference_server.router import DocRoute, Router, unsafe_key, valid_params
from reference_server.storage import Store

log = logging.getLogger("reference_server")

_DECIMAL_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class ServerOptions:
    """Knobs that are not part of the collection config (the official router's options)."""

    prefix: str = "/v1"
    max_batch_append_elements: int = 5000
    max_collections_per_batch: int = 100
    max_signed_body_bytes: int = 65_536
    nonce_per_signer_limit: int = 65_536
    nonce_max_entries: int = 2_000_000
    max_revocation_body_bytes: int = 1_048_576


class Request:
    """What a handler needs from the ASGI scope, decoded once."""

    __slots__ = ("_query", "client_ip", "headers", "method", "path", "query_string", "receive", "scheme", "server")

    def __init__(self, scope: dict[str, Any], receive: Any) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query_string: str = scope.get("query_string", b"").decode("latin-1")
        self.headers: dict[str, str] = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.scheme: str = scope.get("scheme", "http")
        self.server: tuple[str, int] | None = scope.get("server")
        client = scope.get("client")
        self.client_ip: str = client[0] if client else ""
        self.receive = receive
        self._query: dict[str, str] | None = None

    @property
    def path_and_query(self) -> str:
        return f"{self.path}?{self.query_string}" if self.query_string else self.path

    @property
    def query(self) -> dict[str, str]:
        """Query parameters; a repeated name keeps its last value."""
        if self._query is None:
            self._query = dict(parse_qsl(self.query_string, keep_blank_values=True))
        return self._query


def _not_found() -> Response:
    return errors.error(404, errors.NOT_FOUND)


def _rule_key(col: Collection, action: str) -> str:
    return f"{col.namespace}:{col.name}:{action}"


class StarfishApp:
    """`StarfishApp(config, store, options)` is an ASGI 3 application.

    `faults` switches on deliberate bugs for the self-check (reference_server/faults.py); only
    `python -m reference_server.mutant` passes it, never `serve`.
    """

    def __init__(self, config: ServerConfig, store: Store, options: ServerOptions | None = None, *,
                 faults: Faults = NO_FAULTS) -> None:
        self.config = config
        self.store = store
        self.faults = faults
        self.options = options or ServerOptions()
        prefix = self.options.prefix.rstrip("/")
        if prefix and not prefix.startswith("/"):
            raise ValueError("the mount prefix must start with /")
        self.prefix = prefix
        self.router = Router(config)
        self.revocations = Revocations(store, faults=faults)
        self.nonces = NonceCache(per_signer_limit=self.options.nonce_per_signer_limit,
                                 max_entries=self.options.nonce_max_entries)
        self.auth = Authenticator(self.nonces, self.revocations, faults=faults,
                                  max_signed_body_bytes=self.options.max_signed_body_bytes
                                  * (1024 if faults.on("signed-body-guard-off") else 1))
        self.limiter = RateLimiter()
        self._schemas = {
            id(c): jsonschema.validators.validator_for(c.object_schema)(c.object_schema)
            for c in config.all_collections() if c.object_schema is not None
        }
        self._config_body = dumps(self._config_view())
        self._openapi_body = dumps(build_openapi(config, self.router, self.prefix))

    # ---------------------------------------------------------------- ASGI entry

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            try:
                response = await self._dispatch(Request(scope, receive))
            except ClientGone:
                return
            except Exception:
                log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
                response = errors.error(500, errors.INTERNAL)
            if response.status >= 400 and self.faults.on("error-not-json"):
                response.headers[:] = [(b"content-type", b"text/plain")]
            headers = response.headers
            if response.status != 304:
                headers.append((b"content-length", str(len(response.body)).encode("ascii")))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": response.body})
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.store.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _dispatch(self, req: Request) -> Response:
        path = req.path
        prefix = self.prefix
        if not path.startswith(prefix + "/"):
            return _not_found()
        rest = path[len(prefix) + 1 :]
        if rest in ("health", "config", "openapi.json", "revocations"):
            return await self._service(req, rest)
        parts = rest.split("/")
        ns = None
        if parts[0] in self.router.namespaces and len(parts) > 1:
            ns = parts.pop(0)
        action = parts[0]
        if action in ("pull", "push") and len(parts) > 1:
            match = self.router.match_doc(ns, parts[1:])
            if match is not None:
                return await self._document(req, action, match[0], match[1])
        elif action == "list":
            listed = self.router.match_list(ns, parts[1:])
            if listed is not None:
                return await self._list(req, *listed)
        elif action == "batch" and parts[1:] == ["pull"]:
            return await self._batch(req, ns)
        return _not_found()

    async def _authenticate(self, req: Request, now: int, target: str | None, identity: str | None) -> Caller:
        return await self.auth.authenticate(
            method=req.method, path_and_query=req.path_and_query, headers=req.headers, scheme=req.scheme,
            server=req.server, receive=req.receive, now_ms=now, scope_target=target, identity_param=identity,
        )

    # ------------------------------------------------------- /health, /config, ...

    async def _service(self, req: Request, name: str) -> Response:
        expected = "POST" if name == "revocations" else "GET"
        if req.method != expected:
            return errors.method_not_allowed(expected)
        now = now_ms()
        try:
            # Public routes too: a presented cap is always checked (README "Divergences").
            caller = await self._authenticate(req, now, None, None)
        except AuthError as exc:
            return self._auth_failure(exc)
        if name == "health":
            return json_text(200, f'{{"ok":true,"ts":{now}}}')
        if name == "config":
            return json_text(200, self._config_body)
        if name == "openapi.json":
            return json_text(200, self._openapi_body)
        return await self._revocation(req, caller)

    def _config_view(self) -> dict[str, Any]:
        view: dict[str, Any] = {"collections": [c.client_info() for c in self.config.collections]}
        if self.faults.on("config-snake-case"):
            for info in view["collections"]:
                if "appendOnly" in info:
                    info["appendOnly"] = {re.sub("([A-Z])", r"_\1", k).lower(): v
                                          for k, v in info["appendOnly"].items()}
        if self.config.namespaces:
            view["namespaces"] = {ns: {"collections": [c.client_info() for c in cols]}
                                  for ns, cols in self.config.namespaces.items()}
        return view

    async def _revocation(self, req: Request, caller: Caller) -> Response:
        if not is_json_media_type(req.headers.get("content-type")):
            return errors.error(415, errors.WRONG_CONTENT_TYPE)
        raw = caller.body if caller.body is not None and caller.authenticated else None
        if raw is None:
            raw = await read_body(req.receive, self.options.max_revocation_body_bytes)
        if raw is None or len(raw) > self.options.max_revocation_body_bytes:
            return self._payload_too_large()
        body = parse_json_object(raw, self.faults)
        if isinstance(body, Response):
            return body
        try:
            generation = self.revocations.accept(body)
        except RevocationRejected as exc:
            if exc.code == "stale-generation":
                return errors.error(409, errors.REVOCATION_STALE, generation=exc.generation)
            if exc.code == "too-many-issuers":
                return errors.error(503, errors.REVOCATION_FULL)
            return errors.error(400, f"Invalid revocation list: {exc}")
        return json_response(200, {"ok": True, "iss": body["iss"], "generation": generation})

    def _auth_failure(self, exc: AuthError) -> Response:
        log.info("auth rejected (%s): %s", exc.status, exc.reason)
        if exc.status == 401 and self.faults.on("unauthorized-reason-leaked"):
            return errors.error(401, exc.message, reason=exc.reason)
        return errors.error(exc.status, exc.message)

    def _payload_too_large(self) -> Response:
        return errors.error(413, "Payload Too Large" if self.faults.on("error-413-text") else errors.PAYLOAD_TOO_LARGE)

    def _json_content_type(self, content_type: str | None) -> bool:
        if self.faults.on("content-type-unchecked"):
            return True
        if self.faults.on("content-type-params-refused") and ";" in (content_type or ""):
            return False
        return is_json_media_type(content_type)

    def _mime_allowed(self, content_type: str | None, col: Collection) -> bool:
        if self.faults.on("mime-wildcard-prefix"):  # `image/*` read as "starts with image"
            kinds = [t.split("/")[0] for t in col.allowed_mime_types if t.endswith("/*")]
            if any(media_type(content_type).startswith(kind) for kind in kinds):
                return True
        return mime_allowed(content_type, col.allowed_mime_types)

    # ------------------------------------------------------------ pull and push

    async def _document(self, req: Request, action: str, route: DocRoute, params: dict[str, str]) -> Response:
        col = route.collection
        # pullOnly/pushOnly answer 405 with the messages of http-errors.json; the official server answers 404
        # because it never registers the route, which hides the real reason from the client.
        if action == "pull":
            if col.push_only:
                return errors.error(405, errors.WRITE_ONLY)
            if req.method != "GET":
                return errors.method_not_allowed("GET")
            op = READ
        else:
            if col.pull_only and not self.faults.on("pull-only-writable"):
                return errors.error(405, errors.READ_ONLY)
            if req.method != "POST":
                return errors.method_not_allowed("POST")
            op = WRITE
        if not valid_params(params):
            return errors.error(400, errors.INVALID_PATH_PARAM)
        key = route.template.resolve(params)
        identity = params.get("identity")
        now = now_ms()
        # A presented cap is always authenticated (401s apply), but on a route whose roles include `public` the
        # scope-path and identity-param steps (16-17), which only narrow access, are skipped: showing a valid cap
        # must never reach less than anonymous access does (e.g. reading someone else's public profile).
        public = PUBLIC in (col.read_roles if op == READ else col.write_roles)
        public = public and not self.faults.on("public-scope-narrows")
        try:
            if public and self.faults.on("public-route-skips-auth"):
                caller = anonymous()
            else:
                caller = await self._authenticate(req, now, None if public else key, None if public else identity)
        except AuthError as exc:
            return self._auth_failure(exc)
        roles = effective_roles(caller, col, op, identity, self.faults)
        if not allowed(col, op, roles, self.faults):
            return errors.error(403, errors.FORBIDDEN)
        if unsafe_key(key):
            return errors.error(400, errors.INVALID_PATH_PARAM)
        if op == READ:
            return self._pull(req, route, col, key, params, caller, roles, now)
        return await self._push(req, route, col, key, caller, roles, now)

    def _over_limit(self, col: Collection, action: str, caller: Caller, req: Request, now: int) -> bool:
        rule = col.rate_limits.get(action)
        if self.faults.on("rate-limit-ignored"):
            return False
        return bool(rule) and self.limiter.over_limit(_rule_key(col, action), rule, caller.identity, req.client_ip, now)

    def _pull(
        self, req: Request, route: DocRoute, col: Collection, key: str, params: dict[str, str], caller: Caller,
        roles: frozenset[str], now: int,
    ) -> Response:
        if self._over_limit(col, "pull", caller, req, now):
            return errors.error(429, errors.RATE_LIMITED)
        if_none_match = req.headers.get("if-none-match")
        if col.binary:
            return pull_blob(self.store, col, key, if_none_match, self.faults)
        if col.is_log:
            return pull_append(self.store, col, key, req.query, roles, now, if_none_match, self.faults)
        with_keyring = bool(req.query_string) and req.query.get("withKeyring", "").lower() in ("1", "true")
        keyring_key = col.keyring.resolve(params) if col.keyring is not None else None
        if with_keyring and keyring_key is not None and not caller.path_allowed(keyring_key):
            with_keyring = False  # outside the cap's scope: silently omitted (digest §5.11)
        return pull_document(self.store, col, key, now, roles, if_none_match, keyring_key, with_keyring, self.faults)

    async def _push(
        self, req: Request, route: DocRoute, col: Collection, key: str, caller: Caller, roles: frozenset[str],
        now: int,
    ) -> Response:
        declared = req.headers.get("content-length")
        max_body = sys.maxsize if self.faults.on("body-limit-ignored") else col.max_body_bytes
        if declared is not None:
            if not declared or not set(declared) <= _DECIMAL_DIGITS:
                return errors.error(400, errors.INVALID_CONTENT_LENGTH)
            if int(declared) > max_body:
                return self._payload_too_large()
        elif self.faults.on("body-limit-chunked-bypass"):
            max_body = sys.maxsize
        if self._over_limit(col, "push", caller, req, now):
            return errors.error(429, errors.RATE_LIMITED)
        content_type = req.headers.get("content-type")
        binary = col.binary
        if binary:
            if not self._mime_allowed(content_type, col):
                return errors.content_type_not_allowed(content_type or "", col.allowed_mime_types)
        elif not self._json_content_type(content_type):
            return errors.error(415, errors.WRONG_CONTENT_TYPE)
        # A cap-authenticated body was read (and signed over) during authentication; an anonymous one is read
        # here, and the limit holds even without a Content-Length (chunked transfer).
        raw = caller.body if caller.authenticated else await read_body(req.receive, max_body)
        if raw is None or len(raw) > max_body:
            return self._payload_too_large()
        if binary:
            return push_blob(self.store, key, raw, content_type or "")
        body = parse_json_object(raw, self.faults)
        if isinstance(body, Response):
            return body
        data = body.get("data")
        if isinstance(data, dict):
            if col.field_permissions:
                message = forbidden_field(col, data, roles)
                if message is not None:
                    return errors.error(403, message)
            validator = self._schemas.get(id(col))
            if validator is not None:
                failure = jsonschema.exceptions.best_match(validator.iter_errors(data))
                if failure is not None:
                    return json_response(400, {"error": f"Schema validation failed: {failure.message}",
                                               "path": list(failure.absolute_path), "validator": failure.validator})
        if col.append_only is not None:
            return push_append(self.store, col, key, body, caller, now, self.faults)
        store = self.store
        if self.faults.on("push-not-atomic"):  # read the current version, let other requests run, then decide
            store = StaleReadStore(self.store, key)
            await asyncio.sleep(0.05)
        return push_document(store, key, body, caller, now, self.faults)

    # -------------------------------------------------------------- list, batch

    async def _list(self, req: Request, col: Collection, prefix_template: Any, params: dict[str, str]) -> Response:
        if req.method != "GET":
            return errors.method_not_allowed("GET")
        if not valid_params(params):
            return errors.error(400, errors.INVALID_PATH_PARAM)
        target = prefix_template.resolve(params)
        identity = params.get("identity")
        now = now_ms()
        public = PUBLIC in col.read_roles  # steps 16-17 never narrow public access (see _document)
        try:
            caller = await self._authenticate(req, now, None if public else target, None if public else identity)
        except AuthError as exc:
            return self._auth_failure(exc)
        roles = effective_roles(caller, col, READ, identity, self.faults)
        if not allowed(col, READ, roles, self.faults):
            return errors.error(403, errors.FORBIDDEN)
        if unsafe_key(target):
            return errors.error(400, errors.INVALID_PATH_PARAM)
        if self._over_limit(col, "list", caller, req, now):
            return errors.error(429, errors.RATE_LIMITED)
        query = req.query
        limit = parse_limit(query.get("limit"))
        if limit is None:
            return errors.error(400, errors.INVALID_LIST_LIMIT)
        prefix = target + "/" if target else ""
        return list_documents(self.store, self.router, col, prefix, query.get("after"), limit, caller, self.faults)

    async def _batch(self, req: Request, ns: str | None) -> Response:
        if req.method != "GET":
            return errors.method_not_allowed("GET")
        now = now_ms()
        try:
            caller = await self._authenticate(req, now, None, None)
        except AuthError as exc:
            return self._auth_failure(exc)
        return batch_pull(
            store=self.store, collections=self.router.by_name[ns], query=req.query, caller=caller, now=now,
            limiter=self.limiter, client_ip=req.client_ip, max_collections=self.options.max_collections_per_batch,
            max_append_elements=self.options.max_batch_append_elements, faults=self.faults,
        )
