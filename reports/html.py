"""`report.html`: one self-contained page per run. Failures first, each with its rule, source,
the exchanges that showed it and a reproducer; then every check by area."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from reports.results import ERROR, FAIL, STALE, CheckResult
from reports.summary import area_table, verdict_line

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;color:#1b1f24;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} .muted{color:#57606a}
table{border-collapse:collapse;width:100%;margin:1rem 0} th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;
text-align:left;vertical-align:top} th{background:#f6f8fa}
.o{font-weight:600;border-radius:4px;padding:0 .4rem;font-size:12px;white-space:nowrap}
.pass,.info{background:#dafbe1;color:#116329}.fail{background:#ffebe9;color:#a40e26}.error{background:#fff8c5;color:#7d4e00}
.xfail{background:#ddf4ff;color:#0550ae}.stale{background:#fbefff;color:#8250df}.skip{background:#eaeef2;color:#57606a}
details{border:1px solid #d0d7de;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
summary{cursor:pointer} pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:12px;white-space:pre-wrap}
code{font-size:13px} td.n{font-variant-numeric:tabular-nums} td.n.fail,td.n.error,td.n.stale{font-weight:700}
"""


def _badge(outcome: str) -> str:
    return f'<span class="o {html.escape(outcome)}">{html.escape(outcome)}</span>'


def _exchange(exchange: dict[str, Any]) -> str:
    request, response = exchange["request"], exchange["response"]
    req_headers = "\n".join(f"{k}: {v}" for k, v in request["headers"].items())
    res_headers = "\n".join(f"{k}: {v}" for k, v in response["headers"].items())
    return (f"<pre>{html.escape(request['method'])} {html.escape(request['url'])}\n{html.escape(req_headers)}\n\n"
            f"{html.escape(request['body'])}</pre><pre>HTTP {response['status']}\n{html.escape(res_headers)}\n\n"
            f"{html.escape(response['body'])}</pre>")


def _problem(result: CheckResult) -> str:
    parts = [f"<details open id='problem-{html.escape(result.id)}'><summary>{_badge(result.outcome)} "
             f"<code>{html.escape(result.id)}</code> "
             f"<span class=muted>{html.escape(result.level)}</span></summary>",
             f"<p><b>Rule:</b> {html.escape(result.rule)} <span class=muted>(source: {html.escape(result.source)})"
             "</span></p>", f"<pre>{html.escape(result.detail)}</pre>"]
    if result.expectation:
        parts.append(f"<p><b>Expectation:</b> {html.escape(json.dumps(result.expectation))}</p>")
    if result.reproducer:
        parts.append(f"<p><b>Reproduce</b> (re-signs with fresh identities and nonces): "
                     f"<code>{html.escape(result.reproducer['command'])}</code></p>")
        for exchange in result.reproducer.get("exchanges", [])[-3:]:
            parts.append(_exchange(exchange))
    parts.append("</details>")
    return "".join(parts)


def _why(result: CheckResult) -> str:
    """Under a non-passing check: the expectation's reason and link, or a pointer to the failure above."""
    parts = []
    if result.expectation:
        link = result.expectation.get("link", "")
        parts.append(f"<div><b>Expected {html.escape(result.expectation.get('status', ''))}:</b> "
                     f"{html.escape(result.expectation.get('reason', ''))}"
                     + (f" (<code>{html.escape(link)}</code>)" if link else "") + "</div>")
    if result.outcome in (FAIL, ERROR, STALE):
        parts.append(f"<div><a href='#problem-{html.escape(result.id)}'>failure detail and reproducer</a></div>")
    elif result.reproducer:
        parts.append(f"<div class=muted>reproduce: <code>{html.escape(result.reproducer['command'])}</code></div>")
    if result.outcome == "xfail" and result.detail:
        parts.append(f"<pre>{html.escape(result.detail[:600])}</pre>")
    return "".join(parts)


def render(results: list[CheckResult], meta: dict[str, Any]) -> str:
    problems = [r for r in results if r.outcome in (FAIL, ERROR, STALE)]
    rows = "".join(
        f"<tr><td>{html.escape(area)}</td>" + "".join(
            f'<td class="n{" " + o if count[o] and o in ("fail", "error", "stale") else ""}">{count[o]}</td>'
            for o in ("pass", "fail", "error", "xfail", "stale", "skip")) + "</tr>"
        for area, count in area_table(results))
    checks = "".join(
        f"<tr id='check-{html.escape(r.id)}'><td><code>{html.escape(r.id)}</code></td><td>{html.escape(r.level)}</td>"
        f"<td>{_badge(r.outcome)}</td><td>{html.escape(r.rule)}<div class=muted>{html.escape(r.source)}</div>"
        f"{_why(r)}</td></tr>" for r in results)
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>Starfish conformance: "
            f"{html.escape(meta['target'])}</title><style>{_STYLE}</style><body>"
            f"<h1>Starfish v3 conformance: {html.escape(meta['target'])}</h1>"
            f"<p class=muted>Target <code>{html.escape(meta['spec'])}</code> · finished {html.escape(meta['finished'])}"
            f" · {meta['duration_s']} s · gate: {html.escape(meta['level'].upper())}</p>"
            f"<p><b>{html.escape(verdict_line(results))}</b></p>"
            f"<table><tr><th>area</th><th>pass</th><th>fail</th><th>error</th><th>xfail</th><th>stale</th>"
            f"<th>skip</th></tr>{rows}</table>"
            + (f"<h2>Failures ({len(problems)})</h2>{''.join(_problem(r) for r in problems)}" if problems else
               "<h2>No failures</h2>")
            + f"<h2>All checks</h2><table><tr><th>check</th><th>level</th><th>outcome</th><th>rule</th></tr>{checks}"
            "</table></body></html>")


def write_html(path: Path, results: list[CheckResult], meta: dict[str, Any]) -> None:
    path.write_text(render(results, meta), encoding="utf-8")
