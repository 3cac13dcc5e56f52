"""Config loading and validation (digest §7), and the optional features it switches on, over a real socket."""

from __future__ import annotations

import copy
import time
from typing import Any

import httpx
import pytest
from refserver_support import PROFILE, ServerThread, fresh

from conformance.identities import paired_device, root_device, scope
from protocol.keys import SigningKey
from reference_server.config import ConfigError, load_config_file, parse_config, parse_config_text
from reference_server.router import Router


def col(**overrides: Any) -> dict[str, Any]:
    base = {"name": "c", "storagePath": "c/{id}", "readRoles": ["public"], "writeRoles": ["public"],
            "encryption": "none", "maxBodyBytes": 1024}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def config(*collections: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": 1, "collections": list(collections), **top}


def expect(response: httpx.Response, status: int, body: Any = None) -> None:
    assert response.status_code == status, response.text
    if body is not None:
        assert response.json() == body


def test_profile_loads() -> None:
    cfg = load_config_file(PROFILE)
    assert {c.name for c in cfg.collections} >= {"notes", "shared", "events", "files", "vault", "chats"}
    assert all(c.max_body_bytes > 0 for c in cfg.collections)


@pytest.mark.parametrize(("cfg", "message"), [
    (config(col(), col()), 'Duplicate collection name: "c"'),
    (config(col(storagePath="/c/{id}")), 'Collection "c": storagePath must not start with /'),
    (config(col(pullOnly=True, pushOnly=True)), 'Collection "c": cannot be both pullOnly and pushOnly'),
    (config(col(appendOnly={"type": "by_count"})),
     'Collection "c": appendOnly.type "by_count" is not supported (expected "by_timestamp")'),
    (config(col(appendOnly=True, allowedMimeTypes=["image/*"])),
     'Collection "c": appendOnly cannot be used with binary collections'),
    (config(col(appendOnly=True, pullOnly=True)),
     'Collection "c": appendOnly cannot be used with pullOnly (push routes are disabled)'),
    (config(col(appendOnly={"maxItems": 0})), 'Collection "c": appendOnly.maxItems must be a positive integer'),
    (config(col(appendOnly={"persist": False, "chunkSize": 5})),
     'Collection "c": appendOnly.chunkSize requires persist=true (nothing is stored when persist=false)'),
    (config(col(storagePath="c/x", listable=True)),
     'Collection "c": listable requires at least one path parameter in storagePath'),
    (config(col(storagePath="c/{id}/x", listable=True)),
     'Collection "c": listable requires the last storagePath segment to be a path parameter (e.g. {day}), got "x"'),
    (config(col(rootOnly=True)), 'Collection "c": rootOnly cannot be combined with the "public" role in '
                                 "readRoles/writeRoles (a root-only collection is never public)"),
    (config(col(readRoles=[])), 'Collection "c": readRoles must not be empty (use ["public"] for public access)'),
    (config(col(allowedMimeTypes=[])), 'Collection "c": allowedMimeTypes must contain at least one pattern'),
    (config(col(allowedMimeTypes=["image/*"], objectSchema={"type": "object"})),
     'Collection "c": binary collections cannot have objectSchema'),
    (config(col(maxBodyBytes=None)), 'Collection "c": maxBodyBytes must be a positive integer'),
    (config(col(encryption="aes")), 'Collection "c": encryption must be "none" or "delegated"'),
    (config(col(surprise=1)), 'Collection "c": unknown field "surprise"'),
    (config(col(rateLimit=True)), 'Collection "c": rateLimit must resolve both windowMs and maxRequests'),
    (config(col(rateLimit={"pull": {"bucket": "ip", "ip": {"windowMs": 1, "maxRequests": 1}}})),
     'Collection "c": rateLimit.pull cannot set both "bucket" and an "identity"/"ip" sub-limit'),
    (config(col(), namespaces={"pull": {"collections": [col()]}}),
     'Namespace "pull": name is reserved and cannot be used as a namespace'),
    (config(col(), namespaces={"a b": {"collections": [col()]}}),
     'Namespace "a b": name must contain only letters, digits, hyphens, and underscores (got "a b")'),
    (config(col(), namespaces={"ns": {"collections": []}}), 'Namespace "ns": must contain at least one collection'),
    ({"version": 2, "collections": []}, "version must be 1"),
])
def test_semantic_errors(cfg: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(cfg)
    assert str(info.value).startswith("Invalid sync config:\n")
    assert any(line.startswith(message) for line in str(info.value).splitlines()[1:]), str(info.value)


@pytest.mark.parametrize(("cfg", "feature"), [
    (config(col(bundle="b")), "bundle"),
    (config(col(restrictions=[{"mode": "deny", "identities": ["x"]}])), "restrictions"),
    (config(col(), restrictions=[{"mode": "deny", "identities": ["x"]}]), "restrictions"),
])
def test_unimplemented_features_fail_in_one_line(cfg: dict[str, Any], feature: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(cfg)
    assert "\n" not in str(info.value) and f'unsupported config feature "{feature}"' in str(info.value)


def test_ambiguous_routes_are_a_startup_error() -> None:
    cfg = parse_config(config(col(name="a", storagePath="x/{id}"), col(name="b", storagePath="x/{other}")))
    with pytest.raises(ConfigError, match="same shape"):
        Router(cfg)


def test_not_json() -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse_config_text("{nope")


# --------------------------------------------------------------------------------- optional features, live


@pytest.fixture(scope="module")
def features() -> Any:
    cfg = config(
        col(name="ttl", storagePath="ttl/{id}", ttlMs=50, cacheDurationMs=5000),
        col(name="perm", storagePath="perm/{identity}", readRoles=["public"], writeRoles=["self"],
            fieldPermissions={"secret": {"readRoles": ["self"]}, "locked": {"writeRoles": ["admin", "device:root"]}}),
        col(name="schema", storagePath="schema/{id}", objectSchema={
            "type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}),
        col(name="rl", storagePath="rl/{id}", rateLimit={"pull": {"windowMs": 60000, "maxRequests": 2},
                                                         "list": {"windowMs": 60000, "maxRequests": 1}},
            listable=True),
        col(name="flat", storagePath="flat/{id}", rateLimit={"windowMs": 60000, "maxRequests": 1}),
        col(name="private", storagePath="private/{id}", readRoles=["cap:read:private"], cacheDurationMs=3000),
        namespaces={"acme": {"collections": [col(name="c", storagePath="tenant/{id}")]}},
    )
    server = ServerThread(cfg)
    yield server
    server.stop()


def test_ttl_and_cache_control(features: ServerThread) -> None:
    client = features.client()
    path = f"ttl/{fresh()}"
    expect(client.push(path, {"a": 1}), 200)
    time.sleep(0.12)
    response = client.pull(path)
    assert response.json()["data"] == {} and response.json()["hash"] == "" and "etag" not in response.headers
    assert response.headers["cache-control"] == "max-age=5"
    private = client.pull(f"private/{fresh()}", device=root_device(scope(["private"], ["read"])))
    assert private.headers["cache-control"] == "private, max-age=3"


def test_field_permissions(features: ServerThread) -> None:
    client = features.client()
    owner = paired_device(SigningKey.generate(), scope(["perm"], ["read", "write"]))  # not device:root
    path = f"perm/{owner.identity}"
    expect(client.push(path, {"a": 1, "locked": 1}, device=owner), 403,
           {"error": 'Forbidden: field "locked" requires roles: admin, device:root'})
    root = root_device()
    expect(client.push(f"perm/{root.identity}", {"a": 1, "locked": 1}, device=root), 200)
    digest = client.push(path, {"a": 1, "secret": "s"}, device=owner).json()["hash"]
    assert client.pull(path, device=owner).json()["data"] == {"a": 1, "secret": "s"}
    public_view = client.pull(path)
    assert public_view.json()["data"] == {"a": 1} and public_view.headers["etag"] == f'"{digest}"'


def test_object_schema(features: ServerThread) -> None:
    client = features.client()
    expect(client.push(f"schema/{fresh()}", {"n": 1}), 200)
    response = client.push(f"schema/{fresh()}", {"n": "one"})
    assert response.status_code == 400
    assert response.json() == {"error": "Schema validation failed: 'one' is not of type 'integer'", "path": ["n"],
                               "validator": "type"}


def test_rate_limits_per_action(features: ServerThread) -> None:
    client = features.client()
    doc = fresh()
    assert [client.pull(f"rl/{doc}").status_code for _ in range(3)] == [200, 200, 429]
    expect(client.pull(f"rl/{doc}"), 429, {"error": "Rate limit exceeded"})
    batch = client.batch(["rl"], params={"rl": [{"id": doc}]}).json()  # batch is not a way around it
    assert batch["collections"]["rl"] == [{"error": "Rate limit exceeded"}]
    assert [client.list("rl").status_code for _ in range(2)] == [200, 429]
    assert [client.push(f"flat/{fresh()}", {}).status_code for _ in range(2)] == [200, 429]  # flat = push rule
    # Buckets are per identity: another caller still has its budget.
    other = root_device()
    assert client.push(f"flat/{fresh()}", {}, device=other).status_code == 200


def test_namespaces(features: ServerThread) -> None:
    client = features.client()
    doc = fresh()
    expect(client.request("POST", f"acme/push/tenant/{doc}", json={"data": {"t": 1}, "baseHash": None}), 200)
    assert client.request("GET", f"acme/pull/tenant/{doc}").json()["data"] == {"t": 1}
    expect(client.request("GET", f"pull/tenant/{doc}"), 404)
    body = client.request("GET", "acme/batch/pull", query={"collections": "c", "params": f'{{"c":[{{"id":"{doc}"}}]}}'})
    assert body.json()["collections"]["c"][0]["data"] == {"t": 1}
    config_view = client.request("GET", "config").json()
    assert [c["name"] for c in config_view["namespaces"]["acme"]["collections"]] == ["c"]
    device = root_device(scope(["c"], ["read"], [f"tenant/{doc}"]))
    expect(client.request("GET", f"acme/pull/tenant/{doc}", device=device), 200)  # scope targets the key


def test_profile_is_not_modified_by_parsing() -> None:
    raw = load_config_file(PROFILE).raw
    snapshot = copy.deepcopy(raw)
    parse_config(raw)
    assert raw == snapshot
