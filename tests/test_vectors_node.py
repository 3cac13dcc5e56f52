"""Cross-check our generated canonical-JSON and link-fragment vectors with JavaScript itself.

Why: the protocol's canonical form is defined as what JavaScript's JSON.stringify writes (keys sorted by
code point). Node parses the committed vector file with JSON.parse (so integers beyond 2^53 become
doubles, as in a TypeScript server) and must produce every `expected` text and every `fragment`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.node

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

_SCRIPT = r"""
const fs = require("fs");
const hash = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const links = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
function byCodePoint(a, b) {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
function stable(v) {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(stable).join(",") + "]";
  return "{" + Object.keys(v).sort(byCodePoint).map((k) => JSON.stringify(k) + ":" + stable(v[k])).join(",") + "}";
}
function b64url(text) {
  return Buffer.from(text, "utf8").toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
const out = [];
for (const c of hash.stableStringify) out.push({ tcId: c.tcId, ours: c.expected, js: stable(c.input) });
for (const c of hash.computeHash) out.push({ tcId: c.tcId, ours: c.stableJson, js: stable(c.input) });
for (const c of links.link_fragment.cases)
  out.push({ tcId: c.tcId, ours: c.fragment, js: b64url(JSON.stringify([c.origin, c.path, c.token])) });
for (const c of links.base64url.cases)
  if (c.base64url !== undefined) out.push({ tcId: c.tcId, ours: c.base64url, js: b64url(c.input) });
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def javascript_answers() -> list[dict[str, object]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not on PATH")
    done = subprocess.run(
        [node, "-e", _SCRIPT, str(VECTORS / "hash.json"), str(VECTORS / "base64url.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_javascript_writes_every_expected_text(javascript_answers: list[dict[str, object]]) -> None:
    differing = [row for row in javascript_answers if row["ours"] != row["js"]]
    assert len(javascript_answers) > 60
    assert differing == []
