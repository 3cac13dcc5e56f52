"""The conformance profile: the one collection config every server under test must load.

It is a standard Starfish config (`{"version": 1, "collections": [...]}`), so the official servers
load it unchanged; checks find collections by name here instead of hard-coding paths.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

PROFILE_PATH = Path(__file__).resolve().parent / "starfish-profile.json"


@cache
def load_profile() -> dict[str, Any]:
    return json.loads(PROFILE_PATH.read_text(encoding="utf-8"))


def collection(name: str) -> dict[str, Any]:
    """The config of the named collection (KeyError names the missing collection)."""
    for entry in load_profile()["collections"]:
        if entry["name"] == name:
            return entry
    raise KeyError(f"the conformance profile has no collection named {name!r}")
