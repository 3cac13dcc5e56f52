"""parse_target: every target form, versions as parameters, and one-line errors for bad specs."""

from __future__ import annotations

import pytest

from conformance.targets import TargetError, parse_target
from conformance.targets.container import ImageTarget, image_name
from conformance.targets.official_py import OfficialPythonTarget
from conformance.targets.official_ts import OfficialTypeScriptTarget
from conformance.targets.process import ProcessTarget
from conformance.targets.reference import ReferenceTarget
from conformance.targets.url import UrlTarget


@pytest.mark.parametrize(("spec", "kind", "name"), [
    ("reference", ReferenceTarget, "reference"),
    ("", ReferenceTarget, "reference"),
    ("url:http://127.0.0.1:8000/v1", UrlTarget, "url-127.0.0.1-8000"),
    ("process:'python server.py'", ProcessTarget, "process"),
    ("starfish-server-py", OfficialPythonTarget, "starfish-server-py"),
    ("starfish-server-py@3.0.0a71", OfficialPythonTarget, "starfish-server-py"),
    ("starfish-server-ts", OfficialTypeScriptTarget, "starfish-server-ts"),
    ("starfish-server-ts@3.0.0-alpha.64", OfficialTypeScriptTarget, "starfish-server-ts"),
    ("image:localhost/starfish-conformance/reference", ImageTarget, "reference"),
    ("image:localhost/starfish-conformance/starfish-server-py:3.0.0a72", ImageTarget, "starfish-server-py"),
    ("image:my-server:1.2", ImageTarget, "my-server"),
])
def test_forms(spec: str, kind: type, name: str) -> None:
    target = parse_target(spec)
    assert isinstance(target, kind)
    assert target.name == name  # the name picks the expectations file


def test_official_versions_are_parameters_and_default_is_pinned() -> None:
    assert parse_target("starfish-server-py").spec == "starfish-server-py@3.0.0a72"
    assert parse_target("starfish-server-py@3.0.0a71").version == "3.0.0a71"  # type: ignore[attr-defined]
    assert parse_target("starfish-server-ts").spec == "starfish-server-ts@3.0.0-alpha.65"


@pytest.mark.parametrize(("spec", "message"), [
    ("nonsense", "unknown target 'nonsense'; use reference, starfish-server-py"),
    ("starfish-server-py@", "give a version after '@'"),
    ("starfish-server-py@1.0; rm -rf /", "bad version"),
    ("starfish-server-ts@--registry=x", "bad version"),
    ("starfish-server-go", "unknown target"),
    ("image:", "image:NAME[:TAG]"),
    ("image:two words", "image:NAME[:TAG]"),
    ("url:ftp://x", "url target must look like"),
    ("process:", "needs a command"),
])
def test_errors_are_one_line(spec: str, message: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target(spec)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_image_name_drops_registry_tag_and_digest() -> None:
    assert image_name("localhost/ns/starfish-server-ts:3.0.0-alpha.65") == "starfish-server-ts"
    assert image_name("reg:5000/a/b@sha256:abc") == "b"
    assert image_name("plain") == "plain"
