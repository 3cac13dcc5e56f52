"""Deliberate single faults ("mutants") of the reference server, for `starfish-conformance selfcheck`.

A conformance suite is only as good as the bugs it catches. Each fault below breaks exactly one rule
of the reference server; `selfcheck` starts the server with one fault switched on and runs the checks
the fault names in `killed_by`: the suite "kills" the mutant when at least one of them fails.

How a fault is switched on, and only so: `python -m reference_server.mutant --fault NAME` (the
selfcheck's `MutantTarget` runs it). That entry point builds `Faults([...])` and hands it to
`StarfishApp(..., faults=...)`. The normal server (`starfish-conformance serve`, `cli.py`) never
passes faults, reads no environment variable for them, and no request can reach them: every hook in
the server is `if faults.on("<name>")` on an immutable set fixed at start-up. `on()` refuses names
that are not registered here, so a typo in a hook fails loudly instead of being a fault that never fires.

Signature faults ("field X is not bound") are simulated with the harness's signature oracle: a
server that leaves X out of the canonical input would accept a request whose signature covers other
values of X, but a correct verifier cannot find out which value the signer used. So `MutantTarget`
records every request signature the harness makes (signature -> signed text) in a file the mutant
reads; the mutant accepts a signature when a text the presenter's key really signed matches the request
in every field but X (and has exactly the protocol's fields). Without the oracle these mutants behave
like the clean server.

Faults that turned out not to change behaviour (equivalent mutants) are not registered; they are
listed in reference_server/README.md ("Self-check faults") with the reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.canonical_json import js_stringify, json_string, stable_stringify
from protocol.constants import EMPTY_BODY_SHA256, REQUEST_DOMAIN
from protocol.encoding import EncodingError, b64decode
from protocol.hashing import sha256_hex
from protocol.keys import verify_ed25519


@dataclass(frozen=True)
class Fault:
    name: str
    area: str  # the kind of rule it breaks: signing, skew, nonce, revocation, scope, identity, roles, ...
    description: str  # one line: what the broken server does
    killed_by: tuple[str, ...]  # check ids (fnmatch globs) expected to fail against it
    oracle: bool = False  # simulated with the harness's signature oracle (module docstring)
    battery: bool = True  # part of the default selfcheck battery (False: a test-only fault)


def _f(name: str, area: str, description: str, *killed_by: str, oracle: bool = False,
       battery: bool = True) -> Fault:
    return Fault(name, area, description, killed_by, oracle, battery)


_REGISTRY = (
    # ---------------------------------------------------------------- signing: the canonical input, field by field
    _f("sig-method-unbound", "signing", "the request signature does not bind the method (m)",
       "auth.sig.method-bound", oracle=True),
    _f("sig-path-unbound", "signing", "the request signature does not bind the path (p without its query)",
       "auth.sig.path-bound", "auth.sig.path-decoded", "auth.sig.mount-prefix-bound", oracle=True),
    _f("sig-mount-prefix-unbound", "signing", "a signature over the path without the mount prefix is accepted",
       "auth.sig.mount-prefix-bound", oracle=True),
    _f("sig-query-unbound", "signing", "the request signature does not bind the query string",
       "auth.sig.query-bound", "auth.sig.query-raw", oracle=True),
    _f("sig-body-unbound", "signing", "the request signature does not bind the body hash (b)",
       "auth.sig.body-bound", "auth.attack.unsigned-body-binary-collection", oracle=True),
    _f("sig-host-unbound", "signing", "the request signature does not bind the host (h)",
       "auth.sig.host-bound", "auth.sig.host-default-port-dropped", "auth.sig.host-lowercased",
       "auth.attack.replay-to-other-host", oracle=True),
    _f("sig-ts-unbound", "signing", "the request signature does not bind the timestamp (ts)",
       "auth.sig.ts-bound", oracle=True),
    _f("sig-nonce-unbound", "signing", "the request signature does not bind the nonce",
       "auth.sig.nonce-bound", oracle=True),
    _f("sig-host-verbatim", "signing", "h is the Host header verbatim (not lowercased, default port kept)",
       "auth.sig.host-lowercased", "auth.sig.host-default-port-dropped"),
    _f("sig-query-decoded-accepted", "signing", "a signature over the percent-decoded query is accepted too",
       "auth.sig.query-raw"),
    _f("sig-blob-body-unsigned", "signing",
       "a non-JSON body may be signed as empty (the official blob rule), so its bytes are not covered",
       "auth.attack.unsigned-body-binary-collection"),
    _f("sig-issuer-key-accepted", "signing", "a request signed by the cap's issuer instead of its sub is accepted",
       "auth.sig.wrong-key-401"),
    # ------------------------------------------------------------------- skew and cap-window boundaries
    _f("skew-widened", "skew", "request ts is accepted up to 302 s from the server clock (rule: 300 s)",
       "auth.skew.301s-rejected"),
    _f("skew-narrowed", "skew", "request ts is accepted only within 298 s of the server clock (rule: 300 s)",
       "auth.skew.299s-accepted"),
    _f("ts-seconds-accepted", "skew", "an X-Starfish-Ts that looks like seconds is read as seconds",
       "auth.skew.ts-in-milliseconds"),
    _f("cap-window-widened", "skew", "the cap window slack is 301 s (rule: 300 s)",
       "auth.capcert.nbf-301s-rejected", "auth.capcert.exp-301s-rejected"),
    _f("cap-window-narrowed", "skew", "the cap window slack is 299 s (rule: 300 s)",
       "auth.capcert.nbf-300s-slack-accepted", "auth.capcert.exp-300s-slack-accepted"),
    _f("cap-window-exclusive", "skew", "the cap window edges are exclusive (rule: nbf - 300 and exp + 300 inclusive)",
       "auth.capcert.nbf-300s-slack-accepted", "auth.capcert.exp-300s-slack-accepted"),
    # ------------------------------------------------------------------------------------- nonce replay
    _f("nonce-replay-allowed", "nonce", "the nonce cache is never consulted: a replayed request is served",
       "auth.nonce.replay-401", "auth.nonce.any-string", "auth.nonce.burned-by-later-rejection",
       "auth.nonce.per-signer", "auth.nonce.reuse-on-other-request-401", "auth.attack.replay-verbatim",
       "auth.attack.replay-on-public-route", "auth.audience.nonce-per-presenter"),
    _f("nonce-global", "nonce", "nonces are remembered globally, not per signer",
       "auth.nonce.per-signer", "auth.audience.nonce-per-presenter"),
    _f("nonce-before-signature", "nonce", "the nonce is consumed before the signature is checked",
       "auth.nonce.forged-request-does-not-burn", "auth.attack.replay-to-other-host"),
    _f("nonce-kept-on-403", "nonce", "a request refused 403 by its scope path does not consume its nonce",
       "auth.nonce.burned-by-later-rejection"),
    _f("nonce-per-request", "nonce", "the nonce cache key includes the path, so a nonce can be reused elsewhere",
       "auth.nonce.reuse-on-other-request-401"),
    # --------------------------------------------------------------------------------------- revocation
    _f("revocation-ignored", "revocation", "revocation lists are accepted but never consulted",
       "auth.revocation.revoked-cap-401", "auth.revocation.sibling-cap-unaffected",
       "auth.revocation.subject-wide-401", "auth.revocation.stale-generation-rejected",
       "auth.revocation.audience-by-nonce"),
    _f("revocation-stale-generation", "revocation", "a list with an equal or lower generation replaces the stored one",
       "auth.revocation.stale-generation-rejected"),
    _f("revocation-unsigned", "revocation", "a revocation list's signature is not verified",
       "auth.revocation.forged-list-rejected"),
    _f("revocation-any-issuer", "revocation", "a (sub, nonce) listed by any issuer revokes the cap",
       "auth.revocation.other-issuer-cannot-revoke"),
    _f("revocation-subjects-ignored", "revocation", "revokedSubjects are not applied",
       "auth.revocation.subject-wide-401"),
    # ---------------------------------------------------------------- scope: ops, collections, paths, deny
    _f("scope-ops-ignored", "scope", "a cap earns cap:<op>:<col> for every op, whatever scope.ops says",
       "auth.scope.read-only-cannot-write", "auth.scope.write-only-cannot-read", "auth.role.list-uses-read-roles",
       "auth.capcert.empty-ops-forbidden", "list.uses-read-roles", "append.push.write-role-required"),
    _f("scope-star-wildcard", "scope", "the role cap:<op>:* satisfies any cap:<op>:<col> role",
       "auth.scope.star-collection-literal"),
    _f("scope-paths-ignored", "scope", "scope.paths are never checked against the request path",
       "auth.scope.*", "auth.nonce.burned-by-later-rejection", "auth.audience.identity-is-presenter",
       "auth.member.identity-is-sub-user-id"),
    _f("scope-deny-ignored", "scope", "deny rules (!path) in scope.paths are dropped",
       "auth.scope.path-deny-exact", "auth.scope.path-deny-covers-descendants", "auth.scope.deny-only-allows-nothing",
       "auth.scope.list-hides-denied"),
    _f("scope-star-crosses-slash", "scope", "a scope-path * also matches across /",
       "auth.scope.path-star-one-segment"),
    _f("scope-prefix-match", "scope", "a scope path admits every target it is a prefix of",
       "auth.scope.path-whole-match", "auth.scope.path-star-one-segment"),
    _f("scope-identity-literal", "scope", "{identity} in scope.paths is not substituted",
       "auth.scope.identity-substitution", "auth.member.identity-is-sub-user-id",
       "auth.audience.identity-is-presenter"),
    _f("self-ignores-cap-scope", "scope", "`self` is granted whatever the cap's scope.ops and collections",
       "auth.attack.read-only-cap-own-document"),
    # ----------------------------------------------------------------------------------- identity binding
    _f("identity-param-unbound", "identity", "an {identity} path param need not equal the cap-bound identity",
       "auth.role.identity-param-binds-cap-roles"),
    _f("device-identity-is-sub", "identity", "a device cap binds the identity of its sub key, not its issuer",
       "auth.role.paired-device-acts-as-root", "auth.role.paired-device-own-userid-403",
       "auth.attack.read-only-cap-own-document"),
    _f("member-identity-is-issuer", "identity", "a member cap binds the issuer's identity, not subUserId",
       "auth.member.identity-is-sub-user-id"),
    _f("audience-identity-is-issuer", "identity", "an audience cap binds the issuer's identity, not the presenter's",
       "auth.audience.identity-is-presenter"),
    _f("self-any-identity", "identity", "`self` is granted whatever the {identity} param names (step 17 still "
       "guards the standalone routes; batch entries have no step 17)", "batch.identity-from-caller"),
    # ------------------------------------------------------------------------------ public and anonymous roles
    _f("public-route-skips-auth", "roles", "on public routes a presented cap is not authenticated (official behaviour)",
       "auth.attack.invalid-cap-on-public-route", "auth.attack.replay-on-public-route"),
    _f("public-read-grants-write", "roles", "a collection with public reads also accepts anonymous writes",
       "auth.public.anonymous-push-private-403"),
    _f("public-scope-narrows", "roles", "on public routes a cap's scope paths and identity still apply",
       "auth.public.signed-read-of-others-document", "auth.public.anonymous-push-private-403"),
    _f("public-needs-cap", "roles", "anonymous callers never hold the public role",
       "auth.public.anonymous-pull", "auth.public.anonymous-write", "auth.public.non-cap-scheme-anonymous",
       "auth.attack.cap-for-a-on-b-path", "auth.attack.invalid-cap-on-public-route",
       "auth.attack.replay-on-public-route", "auth.attack.unsigned-body-binary-collection",
       "auth.header.signed-write-over-64kib-413"),
    _f("root-only-ignored", "roles", "rootOnly collections admit paired devices",
       "auth.role.root-only-needs-device-root"),
    # ------------------------------------------------------------------------------------- baseHash and 409
    _f("basehash-ignored", "basehash", "pushes never conflict: the last writer wins",
       "sync.push.*-409", "sync.push.absent-basehash-as-null", "sync.push.concurrent-one-winner",
       "errors.vector.http-errors", "errors.vector.protocol-push"),
    _f("null-basehash-overwrites", "basehash", "baseHash null on an existing document overwrites it",
       "sync.push.null-on-existing-409", "sync.push.absent-basehash-as-null"),
    _f("conflict-without-current-hash", "basehash", "a 409 hash_mismatch does not carry currentHash",
       "sync.push.*-409", "sync.push.absent-basehash-as-null", "sync.push.concurrent-one-winner"),
    _f("push-not-atomic", "basehash", "the baseHash check and the write are split by an await",
       "sync.push.concurrent-one-winner"),
    # ------------------------------------------------------------------------------ hash canonicalisation
    _f("hash-keys-unsorted", "hash", "the document hash keeps object keys in arrival order",
       "sync.push.hash-parity", "sync.hash.varied-data", "sync.hash.key-order-code-point", "sync.pull.roundtrip",
       "sync.push.chained"),
    _f("hash-keys-utf16", "hash", "the document hash sorts keys by UTF-16 code units (rule: code points)",
       "sync.hash.key-order-code-point"),
    _f("hash-numbers-python", "hash", "the document hash writes numbers as Python does (1.0, 1e-07)",
       "sync.hash.varied-data"),
    _f("unsafe-keys-kept", "hash", "__proto__, constructor, ... are stored and hashed instead of dropped",
       "sync.push.unsafe-keys-sanitized"),
    # ------------------------------------------------------------------------------------------------ ETag
    _f("etag-unquoted", "etag", "the ETag is the bare hash, without quotes",
       "sync.etag.quoted-hash", "sync.etag.mismatch-200", "sync.hash.varied-data"),
    _f("etag-loose-match", "etag", "If-None-Match matches with or without quotes", "sync.etag.mismatch-200"),
    _f("etag-never-304", "etag", "If-None-Match is ignored: never a 304",
       "sync.etag.if-none-match-304", "append.pull.if-none-match-304", "modes.binary.if-none-match-304"),
    _f("etag-window-hash", "etag", "an append pull's hash and ETag describe the window, not the whole log",
       "append.pull.etag-whole-log", "append.pull.last-zero-empty", "append.pull.if-none-match-304",
       "append.chunked.windows-across-chunks"),
    # ----------------------------------------------------------------- append ordering and checkpoints
    _f("append-equal-ts-accepted", "append", "a client ts equal to the last ts is accepted",
       "append.push.ts-not-monotonic-409"),
    _f("append-server-ts-is-clock", "append", "a server-assigned ts is the clock even when the last ts is later",
       "append.push.server-ts-after-future-client-ts", "append.push.concurrent"),
    _f("append-future-limit-narrowed", "append", "a client ts more than 299 s ahead is refused (rule: 300 s)",
       "append.push.ts-future-limit-accepted"),
    _f("checkpoint-inclusive", "checkpoint", "a checkpoint pull includes the element at the checkpoint ts",
       "append.pull.checkpoint-strict", "append.pull.checkpoint-zero-strict", "append.chunked.windows-across-chunks"),
    _f("checkpoint-zero-inclusive", "checkpoint", "checkpoint=0 includes an element at ts 0 (official behaviour)",
       "append.pull.checkpoint-zero-strict"),
    # ------------------------------------------------------------------------------------------ last / limit
    _f("last-oldest-k", "last-limit", "last=K returns the oldest K elements",
       "append.pull.last-newest-k", "append.pull.limit-alias", "append.pull.limit-wins-over-last",
       "append.pull.checkpoint-then-last", "append.pull.max-pull-limit-clamp", "append.pull.if-none-match-304",
       "append.chunked.windows-across-chunks"),
    _f("last-wins-over-limit", "last-limit", "when both are given, last wins over limit",
       "append.pull.limit-wins-over-last"),
    _f("max-pull-limit-ignored", "last-limit", "limit/last above maxPullLimit are not clamped",
       "append.pull.max-pull-limit-clamp"),
    # -------------------------------------------------------------------------------------------- chunking
    _f("chunk-internals-leak", "chunking", "pulls of a chunked log show its segment bookkeeping",
       "append.chunked.no-internal-keys"),
    _f("chunk-boundary-drop", "chunking", "a window crossing a chunk boundary loses the first element of a chunk",
       "append.chunked.windows-across-chunks"),
    # -------------------------------------------------------------------------------------------- maxItems
    _f("max-items-off-by-one", "max-items", "a log accepts maxItems + 1 elements",
       "append.push.limit-exceeded-409", "append.push.limit-before-monotonic"),
    _f("max-items-after-monotonic", "max-items", "on a full log the ts order check runs before the maxItems check",
       "append.push.limit-before-monotonic"),
    # ----------------------------------------------------------------------------------------- list pagination
    _f("list-has-more-off-by-one", "list", "hasMore is true when exactly `limit` items remain",
       "list.has-more-exact-page"),
    _f("list-after-inclusive", "list", "after=X includes X itself", "list.after-strict", "list.pagination"),
    _f("list-sibling-prefix", "list", "a list also shows keys of sibling prefixes sharing a leading string",
       "list.other-groups-excluded"),
    _f("list-scope-unfiltered", "list", "a list names documents the cap's scope paths deny",
       "auth.scope.list-hides-denied"),
    # ------------------------------------------------------------------------------------------- body limits
    _f("body-limit-ignored", "body-limits", "maxBodyBytes is not enforced",
       "errors.body.too-large-413", "errors.body.too-large-chunked-413", "errors.vector.http-errors"),
    _f("body-limit-chunked-bypass", "body-limits", "maxBodyBytes is checked only against Content-Length",
       "errors.body.too-large-chunked-413"),
    _f("signed-body-guard-off", "body-limits", "the resolver's 64 KiB guard on signed writes is off",
       "auth.header.signed-write-over-64kib-413"),
    # ----------------------------------------------------------------------------------------- content types
    _f("content-type-unchecked", "content-types", "a JSON push with any Content-Type is accepted",
       "errors.content-type.wrong-415", "errors.vector.http-errors"),
    _f("content-type-params-refused", "content-types", "application/json with parameters (charset) is refused",
       "errors.content-type.charset-accepted"),
    _f("mime-wildcard-prefix", "content-types", "image/* also admits media types that merely start with image",
       "modes.binary.disallowed-415"),
    # ------------------------------------------------------------------------------------------ error bodies
    _f("error-413-text", "error-bodies", "the 413 body says \"Payload Too Large\" (rule: \"Payload too large\")",
       "errors.body.too-large-413", "errors.body.too-large-chunked-413", "errors.vector.http-errors"),
    _f("error-not-json", "error-bodies", "error bodies are sent as text/plain",
       "errors.body.json-content-type", "errors.route.wrong-method-405"),
    _f("unauthorized-reason-leaked", "error-bodies", "a 401 body names the resolver's reason (every 401 check)",
       "auth.header.*-401", "auth.nonce.*-401", "auth.skew.301s-rejected"),
    # -------------------------------------------------------------------------------------------- robustness
    _f("deep-nesting-500", "robustness", "a body nested deeper than 64 levels crashes the handler (500)",
       "errors.body.nesting-too-deep-400", "robust.*"),
    _f("not-json-number-500", "robustness", "NaN, Infinity or a number beyond the double range crashes the push (500)",
       "robust.*"),
    # ------------------------------------------------------------------- collection modes, batch, config
    _f("pull-only-writable", "modes", "pullOnly collections accept pushes", "modes.pull-only.push-405"),
    _f("rate-limit-ignored", "modes", "collection rate limits are never applied",
       "modes.rate-limit.push-429", "errors.vector.http-errors"),
    _f("batch-roles-ignored", "batch", "batch entries skip the collection role check",
       "batch.forbidden-entry", "batch.identity-from-caller"),
    _f("config-snake-case", "config", "/config shows the appendOnly object in snake_case",
       "config.append-only-camelcase"),
    # ---------------------------------------------------------------------------------------- test-only
    _f("selftest-noop", "selftest", "changes nothing (a test-only fault that must survive)", "sync.health.ok",
       battery=False),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _REGISTRY}
BATTERY: tuple[Fault, ...] = tuple(fault for fault in _REGISTRY if fault.battery)

_UNBOUND_FIELD = {
    "sig-method-unbound": "m", "sig-path-unbound": "path", "sig-mount-prefix-unbound": "prefix",
    "sig-query-unbound": "query", "sig-body-unbound": "b", "sig-host-unbound": "h", "sig-ts-unbound": "ts",
    "sig-nonce-unbound": "nonce",
}


class UnknownFault(ValueError):
    pass


class SignatureOracle:
    """The request signatures the harness made in this run: one JSON line `{"sig", "msg"}` (base64) each.

    Written by the harness (`conformance.targets.mutant`) just before each request is sent, read here
    incrementally when a signature fault needs to know what a signature really covers.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._offset = 0
        self._signed: dict[str, bytes] = {}

    def signed_message(self, signature_b64: str) -> bytes | None:
        if signature_b64 not in self._signed and self.path.exists():
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
            complete = chunk.rfind(b"\n") + 1
            self._offset += complete
            for line in chunk[:complete].splitlines():
                entry = json.loads(line)
                self._signed[entry["sig"]] = b64decode(entry["msg"], what="oracle message")
        return self._signed.get(signature_b64)


class Faults:
    """The faults switched on in one server: empty (`NO_FAULTS`) everywhere except `reference_server.mutant`."""

    __slots__ = ("_names", "_oracle", "_unbound")

    def __init__(self, names: tuple[str, ...] | list[str] = (), *, oracle: SignatureOracle | None = None) -> None:
        unknown = [name for name in names if name not in FAULTS]
        if unknown:
            raise UnknownFault(f"unknown fault {unknown[0]!r}; known: {', '.join(sorted(FAULTS))}")
        self._names = frozenset(names)
        self._oracle = oracle
        unbound = [_UNBOUND_FIELD[name] for name in self._names if name in _UNBOUND_FIELD]
        self._unbound = unbound[0] if len(unbound) == 1 else None
        if len(unbound) > 1:
            raise UnknownFault("at most one sig-*-unbound fault at a time")

    @property
    def names(self) -> frozenset[str]:
        return self._names

    def __bool__(self) -> bool:
        return bool(self._names)

    def on(self, name: str) -> bool:
        if name not in FAULTS:
            raise UnknownFault(f"hook names an unregistered fault {name!r}")
        return name in self._names

    def unbound_signature_accepts(self, presenter: str, signature_b64: str, *, m: str, p: str, body: bytes, h: str,
                                  ts: int, nonce: str) -> bool:
        """The sig-*-unbound faults: does a text the presenter really signed match this request but for one field?"""
        if self._unbound is None or self._oracle is None:
            return False
        message = self._oracle.signed_message(signature_b64)
        if message is None or not message.startswith(REQUEST_DOMAIN.encode()):
            return False
        try:
            if not verify_ed25519(presenter, b64decode(signature_b64, what="signature"), message):
                return False
        except (EncodingError, ValueError):
            return False
        signed = json.loads(message[len(REQUEST_DOMAIN):])
        if set(signed) != {"b", "h", "m", "nonce", "p", "ts"}:
            return False  # only the one field is unbound; the input's shape still is the protocol's
        actual = {"m": m.upper(), "b": hashlib.sha256(body).hexdigest() if body else EMPTY_BODY_SHA256, "h": h,
                  "ts": ts, "nonce": nonce}
        field = self._unbound
        if any(signed.get(key) != value for key, value in actual.items() if key != field):
            return False
        signed_path, _, signed_query = str(signed.get("p", "")).partition("?")
        path, _, query = p.partition("?")
        if field == "path":
            return signed_query == query
        if field == "query":
            return signed_path == path
        if field == "prefix":  # the server strips its mount prefix (leading whole segments) before verifying
            return signed["p"] == p or (p.endswith(signed["p"]) and signed["p"].startswith("/")
                                        and p[: len(p) - len(signed["p"])].startswith("/"))
        return signed.get("p") == p

    def document_hash(self, data: Any) -> str:
        """The document hash as the hash-* faults compute it (the protocol's canonical hash when none is on)."""
        if self.on("hash-keys-unsorted"):
            text = js_stringify(data)
        elif self.on("hash-keys-utf16") or self.on("hash-numbers-python"):
            text = _mutant_json(data, utf16_keys=self.on("hash-keys-utf16"), python_numbers=self.on(
                "hash-numbers-python"))
        else:
            text = stable_stringify(data)
        return sha256_hex(text.encode("utf-8"))


def _mutant_json(value: Any, *, utf16_keys: bool, python_numbers: bool) -> str:
    """Canonical JSON with one mistake: keys sorted by UTF-16 code units, or numbers written as Python does."""
    def render(item: Any) -> str:
        return _mutant_json(item, utf16_keys=utf16_keys, python_numbers=python_numbers)

    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass")) if utf16_keys else sorted(value)
        return "{" + ",".join(f"{json_string(key)}:{render(value[key])}" for key in keys) + "}"
    if isinstance(value, list):
        return "[" + ",".join(render(item) for item in value) + "]"
    if python_numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        return json.dumps(value)
    return stable_stringify(value)


class StaleReadStore:
    """push-not-atomic: the store as one request saw it before yielding; reads of `key` return that stale version."""

    def __init__(self, store: Any, key: str) -> None:
        self._store, self._key, self._seen = store, key, store.get_doc(key)

    def get_doc(self, key: str) -> Any:
        return self._seen if key == self._key else self._store.get_doc(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


NO_FAULTS = Faults()


def describe(names: list[str] | tuple[str, ...]) -> str:
    """One line for the mutant server's banner."""
    return "; ".join(f"{name}: {FAULTS[name].description}" for name in names)


__all__ = ["BATTERY", "FAULTS", "NO_FAULTS", "Fault", "Faults", "SignatureOracle", "StaleReadStore", "UnknownFault",
           "describe"]
