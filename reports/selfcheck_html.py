"""`selfcheck.html`: the self-check on one page. The kill rate, the clean server's verdict, and a matrix of
mutants (rows, grouped by the kind of rule each breaks) against suite areas (columns): each cell counts the
checks of that area that failed against the mutant; a cell holding one of the mutant's expected checks is
the kill. Survivors and errors come first, with why."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:78rem;color:#1b1f24;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:1.6rem} .muted{color:#57606a}
.big{font-size:2rem;font-weight:700} .ok{color:#116329} .bad{color:#a40e26}
.cards{display:flex;gap:1rem;margin:1rem 0;flex-wrap:wrap}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:10rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:13px}
th,td{border-bottom:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0} th.a,td.c{text-align:center;width:3.6rem}
td.c{font-variant-numeric:tabular-nums;font-weight:600}
.kill{background:#ffd8d3;color:#8a0b1f}.coll{background:#fff1c2;color:#6b4700}.clear{background:#e6f6ea;color:#116329}
.none{color:#afb8c1}
.o{font-weight:600;border-radius:4px;padding:0 .4rem;font-size:12px;white-space:nowrap}
.killed{background:#dafbe1;color:#116329}.survived{background:#ffebe9;color:#a40e26}.error{background:#fff8c5;color:#7d4e00}
tr.group td{background:#f6f8fa;font-weight:600;color:#57606a;text-transform:uppercase;font-size:11px;
letter-spacing:.04em}
code{font-size:12px} a{color:#0969da;text-decoration:none}
td.m{min-width:19rem} td.m .muted{font-size:12px} td.k code{font-size:11px;white-space:nowrap}
.kinds{display:flex;flex-wrap:wrap;gap:.4rem}
.kind{border:1px solid #d0d7de;border-radius:4px;padding:.1rem .5rem;font-size:12px}
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _cell(mutant: dict[str, Any], area: str) -> str:
    counts = mutant["areas"].get(area)
    if not counts:
        return '<td class="c none" title="not run">·</td>'
    failed = counts.get("fail", 0)
    ran = sum(counts.values())
    killer_here = any(k.split(".", 1)[0] == area for k in mutant["killers"])
    css = "kill" if killer_here else "coll" if failed else "clear"
    title = f"{failed} of {ran} {area} checks failed" + (" (including an expected one)" if killer_here else "")
    return f'<td class="c {css}" title="{_e(title)}">{failed}</td>'


def _link(path: str, base: Path, text: str) -> str:
    try:
        href = os.path.relpath(Path(path) / "report.html", base)
    except ValueError:
        href = str(Path(path) / "report.html")
    return f'<a href="{_e(href)}">{_e(text)}</a>'


def render(summary: dict[str, Any], base: Path) -> str:
    mutants = summary["mutants"]
    areas = sorted({area for m in mutants for area in m["areas"]})
    clean = summary["clean"]
    rate_css = "ok" if summary["kill_rate"] == 100.0 else "bad"
    clean_css = "ok" if clean["passed"] else "bad"
    cards = (f'<div class="cards"><div class="card"><div class="muted">kill rate</div>'
             f'<div class="big {rate_css}">{summary["kill_rate"]} %</div>'
             f'<div>{summary["killed"]} of {summary["total"]} mutants killed</div></div>'
             f'<div class="card"><div class="muted">survived / errors</div><div class="big">{summary["survived"]} / '
             f'{summary["errors"]}</div></div>'
             f'<div class="card"><div class="muted">clean reference server</div><div class="big {clean_css}">'
             f'{"pass" if clean["passed"] else "FAIL"}</div><div>{clean["checks_run"]} checks · '
             f'{_link(clean["output"], base, "report")}</div></div>'
             f'<div class="card"><div class="muted">run time</div><div class="big">{summary["duration_s"]} s</div>'
             f'<div>{summary["jobs"]} parallel jobs</div></div></div>')
    problems = [m for m in mutants if m["status"] != "killed"]
    problem_rows = "".join(
        f'<tr><td><span class="o {_e(m["status"])}">{_e(m["status"])}</span></td><td><code>{_e(m["name"])}</code>'
        f'</td><td>{_e(m["description"])}<div class="muted">{_e(m["note"])}</div></td>'
        f'<td><code>{_e(", ".join(m["killed_by"]))}</code></td></tr>' for m in problems)
    problems_html = (f"<h2>Survivors and errors ({len(problems)})</h2><table><tr><th>status</th><th>mutant</th>"
                     f"<th>fault</th><th>expected to fail</th></tr>{problem_rows}</table>" if problems else
                     "<h2>Every mutant was killed</h2>")
    head = "".join(f'<th class="a">{_e(a)}</th>' for a in areas)
    rows: list[str] = []
    group = None
    for m in sorted(mutants, key=lambda m: (m["area"], m["name"])):
        if m["area"] != group:
            group = m["area"]
            rows.append(f'<tr class="group"><td colspan="{len(areas) + 3}">{_e(group)}</td></tr>')
        shown = [_e(k) for k in m["killers"][:3]]
        if len(m["killers"]) > 3:
            shown.append(f"+{len(m['killers']) - 3} more")
        killers = "<br>".join(shown)
        rows.append(f'<tr><td class="m">{_link(m["output"], base, m["name"])}<div class="muted">'
                    f'{_e(m["description"])}</div></td><td><span class="o {_e(m["status"])}">{_e(m["status"])}</span>'
                    f"</td>" + "".join(_cell(m, a) for a in areas) + f'<td class="k"><code>{killers or "—"}</code>'
                    "</td></tr>")
    kinds: dict[str, list[int]] = {}
    for m in mutants:
        tally = kinds.setdefault(m["area"], [0, 0])
        tally[0] += m["status"] == "killed"
        tally[1] += 1
    kinds_html = '<div class="kinds">' + "".join(
        f'<span class="kind {"" if k == n else "survived"}"><b>{_e(kind)}</b> {k}/{n}</span>'
        for kind, (k, n) in sorted(kinds.items())) + "</div>"
    legend = ('<p class="muted">Cells: failing checks of that area against the mutant. <span class="o kill">red'
              '</span> includes a check the fault lists (the kill), <span class="o coll">amber</span> only other '
              'checks, <span class="o clear">green</span> the area ran and passed, · the area was not run.</p>')
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>Starfish conformance self-check</title>"
            f"<style>{_STYLE}</style><body><h1>Starfish v3 conformance: self-check</h1>"
            f'<p class="muted">The suite against {summary["total"]} deliberately broken reference servers, one rule '
            f'broken in each (reference_server/faults.py) · finished {_e(summary["finished"])}</p>'
            f"{cards}<h2>Kinds of rule broken (killed / mutants)</h2>{kinds_html}{problems_html}"
            f"<h2>Mutant × area</h2>{legend}<table><tr><th>mutant</th><th>status</th>{head}"
            f"<th>caught by</th></tr>{''.join(rows)}</table></body></html>")


def write_selfcheck_html(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(render(summary, path.parent), encoding="utf-8")
