"""The config endpoint: `GET /config` describes the loaded collections to clients (digest §1.5).

Every server under test loads the conformance profile with the config endpoint in `auth: "public"` mode
(notes/official-servers.md), so an anonymous caller sees every collection of the profile.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from conformance.checks import MUST, SHOULD, check
from conformance.profile import collection, load_profile
from conformance.suite.support import expect_ok, root

INFO_FIELDS = {"name", "maxBodyBytes", "encryption", "allowedMimeTypes", "pullOnly", "pushOnly", "forceFullFetch",
               "ttlMs", "appendOnly"}
REQUIRED_FIELDS = {"name", "maxBodyBytes", "encryption", "allowedMimeTypes"}
CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*")
PROFILE_NAMES = [c["name"] for c in load_profile()["collections"]]


def _config(client, device=None) -> dict[str, Any]:
    body = expect_ok(client.request("GET", "config", device=device))
    assert isinstance(body.get("collections"), list), f"config has no collections list: {body}"
    return body


def _by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    infos: dict[str, dict[str, Any]] = {}
    for info in body["collections"]:
        assert isinstance(info, dict) and isinstance(info.get("name"), str), f"bad collection entry {info!r}"
        assert info["name"] not in infos, f"collection {info['name']} listed twice"
        infos[info["name"]] = info
    return infos


@check("config.shape", level=MUST,
       rule='GET /config answers 200 {"collections": [Info...]} listing every configured collection once, with '
            'no "namespaces" key when the config has none',
       source="digest §1.5, §2")
def test_config_shape(client):
    body = _config(client)
    assert set(body) == {"collections"}, f"config keys {sorted(body)}: the profile has no namespaces"
    assert sorted(_by_name(body)) == sorted(PROFILE_NAMES), body


@check("config.info-fields", level=MUST,
       rule="Each collection Info has name, maxBodyBytes, encryption and allowedMimeTypes, only known camelCase "
            "fields, and no null values",
       source="digest §1.5 ('Null fields are dropped'), §11 row 14")
def test_info_fields(client):
    for name, info in _by_name(_config(client)).items():
        assert set(info) >= REQUIRED_FIELDS, f"{name}: missing {sorted(REQUIRED_FIELDS - set(info))}"
        assert set(info) <= INFO_FIELDS, f"{name}: unknown fields {sorted(set(info) - INFO_FIELDS)}"
        for key, value in info.items():
            assert CAMEL.fullmatch(key), f"{name}: field {key!r} is not camelCase"
            assert value is not None, f"{name}: null field {key!r} (null fields are dropped)"


@check("config.values-match-profile", level=MUST,
       rule="maxBodyBytes, encryption and allowedMimeTypes echo the loaded config (allowedMimeTypes defaults to "
            '["application/json"])',
       source="digest §1.5, §7.2")
@pytest.mark.parametrize("name", ["notes", "tiny", "files", "vault", "events"])
def test_values_match_profile(client, name):
    info = _by_name(_config(client))[name]
    expected = collection(name)
    assert info.get("maxBodyBytes") == expected["maxBodyBytes"], info
    assert info.get("encryption") == expected["encryption"], info
    assert info.get("allowedMimeTypes") == expected.get("allowedMimeTypes", ["application/json"]), info


@check("config.flags-only-when-true", level=MUST,
       rule="pullOnly / pushOnly appear (true) only on collections that set them, and are absent elsewhere",
       source="digest §1.5 ('pullOnly / pushOnly / forceFullFetch only when true')")
def test_flags(client):
    infos = _by_name(_config(client))
    assert infos["announcements"].get("pullOnly") is True, infos["announcements"]
    assert infos["inbox"].get("pushOnly") is True, infos["inbox"]
    for name, info in infos.items():
        if name != "announcements":
            assert "pullOnly" not in info, f"{name}: pullOnly present on a collection that does not set it"
        if name != "inbox":
            assert "pushOnly" not in info, f"{name}: pushOnly present on a collection that does not set it"
        assert "forceFullFetch" not in info and "ttlMs" not in info, f"{name}: {info}"


@check("config.append-only-described", level=MUST,
       rule="appendOnly is present on append-only collections (with type by_timestamp and its field) and absent "
            "on the others",
       source="digest §1.5, §4.1")
def test_append_only_described(client):
    infos = _by_name(_config(client))
    for name in PROFILE_NAMES:
        configured = collection(name).get("appendOnly")
        info = infos[name]
        if configured is None:
            assert "appendOnly" not in info, f"{name}: appendOnly on a regular collection: {info}"
            continue
        described = info.get("appendOnly")
        assert isinstance(described, dict), f"{name}: appendOnly missing: {info}"
        assert described.get("type") == "by_timestamp", f"{name}: {described}"
        assert described.get("field") == configured.get("field", "items"), f"{name}: {described}"


@check("config.append-only-camelcase", level=SHOULD,
       rule="The nested appendOnly object uses the config's camelCase names (maxItems, chunkSize, maxPullLimit, "
            "allowFull, ...), as the client docs read them",
       source="digest §11 row 14 (client docs read camelCase); the official 3.0.0a72 server leaks snake_case here "
              "(digest §1.5 quirk), so it fails this SHOULD")
def test_append_only_camelcase(client):
    infos = _by_name(_config(client))
    capped = infos["capped"].get("appendOnly") or {}
    assert capped.get("maxItems") == 5, f"capped appendOnly: {capped}"
    assert infos["chunked"].get("appendOnly", {}).get("chunkSize") == 100, infos["chunked"]
    strict = infos["strictlog"].get("appendOnly") or {}
    assert strict.get("allowFull") is False and strict.get("maxPullLimit") == 50, strict
    assert strict.get("maxCheckpointAgeMs") == 86400000, strict
    for name, info in infos.items():
        for key in info.get("appendOnly", {}):
            assert CAMEL.fullmatch(key), f"{name}: appendOnly field {key!r} is not camelCase"


@check("config.public-no-auth", level=MUST,
       rule="In public mode /config needs no auth, and a signed caller sees the same collections",
       source="digest §1.5 (auth: public); notes/official-servers.md (the profile's servers use public mode)")
def test_public_no_auth(client):
    anonymous = _by_name(_config(client))
    signed = _by_name(_config(client, device=root(("shared",))))
    assert sorted(anonymous) == sorted(signed) == sorted(PROFILE_NAMES), (sorted(anonymous), sorted(signed))
