"""Property: `stable_stringify` equals Node's JSON.stringify with object keys sorted by code point.

One `node` process serves the whole module over line-delimited JSON, so the batch costs one start-up.
Values travel to Node as `json.dumps(..., ensure_ascii=True)`, which keeps lone surrogates intact as
`\\udXXX` escapes. Integers beyond 2^53 are written exactly and JSON.parse rounds them to the nearest
double (or to ±Infinity), which is the rule the kit applies.

The Node side serialises containers itself instead of rebuilding objects in sorted order and calling
JSON.stringify once: a JavaScript object enumerates integer-like keys ("9", "10") first in numeric order
whatever the insertion order, and assigning a `__proto__` key would set the prototype. Every scalar and
every string (keys included) still goes through JSON.stringify.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.canonical_json import stable_stringify

pytestmark = pytest.mark.node

NODE_SCRIPT = r"""
const readline = require('readline');
function byCodePoint(a, b) {
  const x = Array.from(a), y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i].codePointAt(0), q = y[i].codePointAt(0);
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.length - y.length;
}
function canonical(v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.keys(v).sort(byCodePoint).map(k => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}
const rl = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
rl.on('line', line => {
  let reply;
  try { reply = {ok: canonical(JSON.parse(line))}; } catch (e) { reply = {error: String(e)}; }
  process.stdout.write(JSON.stringify(reply) + '\n');
});
"""


@pytest.fixture(scope="module")
def node_stringify() -> Iterator[Callable[[Any], str]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required for this test but `node` was not found on PATH (CI installs it)")
    proc = subprocess.Popen(
        [node, "-e", NODE_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        bufsize=1,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def stringify(value: Any) -> str:
        proc.stdin.write(json.dumps(value, ensure_ascii=True, allow_nan=False) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"node exited (code {proc.poll()}) without answering")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"node failed: {reply['error']}")
        return reply["ok"]

    try:
        yield stringify
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _js_string(text: str) -> str:
    # A Python string holding a high surrogate followed by a low one is, in JavaScript, one astral character:
    # JSON.parse joins the two escapes. Python's json.loads does the same, so such a pair never arrives from
    # the wire as two code points; fold it here so both sides hold the same string.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


SPECIAL_CHARS = [
    "\x00",
    "\x1f",
    "\x7f",
    '"',
    "\\",
    "/",
    "\b",
    "\u2028",
    "\u2029",
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
    "\ufeff",
    "\uffff",
    "\ue000",
    "😀",
    "\U0010ffff",
    "é",
    "0",
    "9",
]
chars = st.one_of(st.characters(), st.characters(categories=["Cs"]), st.sampled_from(SPECIAL_CHARS))
texts = st.text(alphabet=chars, max_size=12).map(_js_string)

DBL_MAX_INT = 2**1024 - 2**971
SPECIAL_INTS = [
    2**53 - 1,
    2**53,
    2**53 + 1,
    2**53 + 2,
    2**60,
    2**64,
    10**20,
    10**21 - 1,
    10**21,
    10**21 + 1,
    DBL_MAX_INT,
    DBL_MAX_INT + 2**969,
    2**1024 - 2**970,
    2**1024 - 2**970 - 1,
    2**1024,
    10**400,
]
ints = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=10**19, max_value=10**23),
    st.integers(min_value=2**1020, max_value=2**1025),
    st.sampled_from(SPECIAL_INTS).flatmap(lambda n: st.sampled_from([n, -n])),
)

SPECIAL_FLOATS = [
    0.0,
    -0.0,
    5e-324,
    2.2250738585072014e-308,
    1e-6,
    1e-7,
    9.999999999999999e-7,
    1.0000000000000002e-6,
    1e21,
    1e20,
    9.999999999999999e20,
    1.0000000000000001e21,
    2.0**53,
    2.0**53 + 2,
    1.7976931348623157e308,
    0.1,
    1 / 3,
    123e-20,
    4.35,
    0.000001234,
]
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e-8, max_value=1e-5),
    st.floats(min_value=1e19, max_value=1e22),
    st.floats(min_value=0.0, max_value=1e-300),  # subnormals and tiny normals
    st.integers(min_value=-(2**60), max_value=2**60).map(float),
    st.sampled_from(SPECIAL_FLOATS),
).flatmap(lambda x: st.sampled_from([x, -x]))

scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(
            st.one_of(texts, st.sampled_from(["10", "9", "__proto__", "", "a", "😀", "\uffff"])), children, max_size=5
        ),
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_stable_stringify_matches_node(node_stringify: Callable[[Any], str], value: Any) -> None:
    assert stable_stringify(value) == node_stringify(value)


FIXED_CASES: list[Any] = [
    1.0,
    -0.0,
    1e-6,
    1e-7,
    1e21,
    1e20,
    5e-324,
    2**53 + 1,
    2**60,
    10**400,
    -(10**400),
    "\x00\x1f\u2028\ud800",
    {"b": 1, "a": 2, "😀": 3, "\uffff": 4, "10": 5, "9": 6, "__proto__": 7},
    [DBL_MAX_INT, 2**1024 - 2**970, 2**1024 - 2**970 - 1],
]


@pytest.mark.parametrize("value", FIXED_CASES, ids=[str(i) for i in range(len(FIXED_CASES))])
def test_fixed_cases_match_node(node_stringify: Callable[[Any], str], value: Any) -> None:
    assert stable_stringify(value) == node_stringify(value)
