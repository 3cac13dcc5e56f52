"""`starfish-conformance fuzz`: contract fuzzing of any target from an OpenAPI document, every request signed.

    starfish-conformance fuzz --target reference                  # the target's own /openapi.json
    starfish-conformance fuzz --target T --schema profile          # the harness's document for the profile
    starfish-conformance fuzz --target T --replay reports/.../reproducers/X.json

Steps: start the target; fetch its document (or build the profile's, `conformance.schema_profile`);
validate the document (`conformance.fuzz_document`); fuzz every operation with schemathesis, each
request signed over its final bytes (`conformance.fuzz_auth`, `conformance.fuzz_engine`); run the
push→pull and append→checkpoint sequences (`conformance.fuzz_stateful`); write results.jsonl,
junit.xml, summary.md and report.html like `run`, plus one replayable reproducer per finding.

Exit status: 0 no finding; 1 a MUST/SHOULD check failed; 3 harness errors only; 2 usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_MAX_EXAMPLES = 8
DEFAULT_DURATION_S = 45.0
DEFAULT_SEED = 20261121

# Check id -> (level, area). INFO results are shown but never gate (see CHECK_NOTES).
LEVELS = {
    "not_a_server_error": "MUST", "transport": "MUST", "ignored_auth": "MUST",
    "status_code_conformance": "SHOULD", "content_type_conformance": "SHOULD",
    "response_headers_conformance": "SHOULD", "response_schema_conformance": "SHOULD",
    "negative_data_rejection": "SHOULD", "positive_data_acceptance": "INFO",
}
CHECK_NOTES = {
    "positive_data_acceptance": "advisory: a Starfish request can be schema-valid and still be refused with 400 "
                                "for what OpenAPI cannot express (author proofs, signed revocation lists, pull "
                                "bounds, batch collection names), so this check informs and never gates",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fuzz", help="fuzz a server's HTTP contract from OpenAPI (schemathesis), every request signed",
        description="Fuzz every operation of a target's OpenAPI document with schemathesis, signing each request "
                    "over the exact bytes sent, and write results.jsonl, junit.xml, summary.md and report.html.")
    parser.add_argument("--target", default="reference",
                        help="reference (default), url:http://HOST:PORT/PREFIX or process:'CMD'")
    parser.add_argument("--schema", choices=("target", "profile"), default="target",
                        help="target: the server's own <prefix>/openapi.json (default); profile: the harness's "
                             "document for the conformance profile")
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES,
                        help=f"generated cases per operation (default {DEFAULT_MAX_EXAMPLES})")
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S,
                        help=f"time budget in seconds for the fuzzing phase (default {DEFAULT_DURATION_S:g})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Hypothesis seed (default fixed)")
    parser.add_argument("--negative-share", type=float, default=0.3,
                        help="share of each operation's examples generated to violate the document (default 0.3)")
    parser.add_argument("--blob-signing", choices=("auto", "real", "empty"), default="auto",
                        help="body hash of signed non-JSON uploads: real bytes (reference server) or empty "
                             "(official servers, digest §5.4 rule 5); auto picks by target name")
    parser.add_argument("--operation", action="append", default=[], metavar="TEXT",
                        help="fuzz only operations whose label ('POST /push/...') contains TEXT (repeatable)")
    parser.add_argument("--output", help="output folder (default reports/fuzz-<target>-<time>)")
    parser.add_argument("--replay", metavar="FILE",
                        help="replay a reproducer file (or every file in a folder) instead of fuzzing: "
                             "re-signed with a fresh identity and nonce")
    parser.add_argument("--quiet", "-q", action="store_true", help="no per-operation progress")
    parser.set_defaults(handler=fuzz_command)


# ---------------------------------------------------------------------------------------------- helpers


def _collections() -> list[str]:
    from conformance.profile import load_profile

    return [c["name"] for c in load_profile()["collections"]]


def fetch_document(source: str, base_url: str) -> dict[str, Any]:
    import httpx

    from conformance.schema_profile import profile_openapi
    from conformance.targets import TargetError

    if source == "profile":
        return profile_openapi()
    try:
        response = httpx.get(base_url + "/openapi.json", timeout=10.0)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise TargetError(f"could not read {base_url}/openapi.json ({exc}); try --schema profile") from None
    if not isinstance(document, dict):
        raise TargetError(f"{base_url}/openapi.json is not a JSON object; try --schema profile")
    return document


def _empty_blob_hash(mode: str, target_name: str) -> bool:
    if mode != "auto":
        return mode == "empty"
    return target_name.startswith(("starfish-server", "official"))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:80]


# ------------------------------------------------------------------------------------------------- fuzz


def fuzz_command(args: argparse.Namespace) -> int:
    from conformance.cli import UsageError
    from conformance.targets import TargetError, parse_target

    try:
        target = parse_target(args.target)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    if args.max_examples < 1 or args.duration <= 0:
        raise UsageError("--max-examples must be >= 1 and --duration > 0")
    if args.replay:
        return replay_command(args, target)
    output = Path(args.output) if args.output else Path("reports") / (
        f"fuzz-{target.name}-{dt.datetime.now():%Y%m%d-%H%M%S}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="starfish-fuzz-") as workdir:
        try:
            running = target.start(Path(workdir))
        except TargetError as exc:
            raise UsageError(f"target {args.target}: {exc}") from None
        try:
            results, meta = fuzz_target(args, running, output, started)
        except TargetError as exc:
            raise UsageError(str(exc)) from None
        finally:
            target.stop()
    return _finish(results, meta, output, quiet=args.quiet)


def fuzz_target(args: argparse.Namespace, running: Any, output: Path, started: float) -> tuple[list[Any], dict]:
    from conformance.fuzz_auth import IdentityPool
    from conformance.fuzz_document import check_loads, validate_document
    from conformance.fuzz_engine import CHECK_RULES, Fuzzer, load_schema
    from conformance.fuzz_stateful import append_checkpoint, push_pull
    from reports import results as R

    log = (lambda _line: None) if args.quiet else (lambda line: print(line, flush=True))
    document = fetch_document(args.schema, running.base_url)
    cases: list[R.CaseResult] = []

    def add(check_id: str, level: str, area: str, rule: str, source: str, case: str, outcome: str,
            detail: str = "", duration: float = 0.0, exchanges: list | None = None) -> None:
        cases.append(R.CaseResult(check_id=check_id, level=level, area=area, rule=rule, source=source,
                                  nodeid=f"fuzz::{check_id}::{case}", case=case, outcome=outcome,
                                  duration_s=round(duration, 4), detail=detail, exchanges=exchanges or []))

    def outcome_of(ok: bool | None, level: str = "MUST") -> str:
        if ok is None:
            return R.SKIP
        if level == "INFO":
            return R.INFO
        return R.PASS if ok else R.FAIL

    log(f"fuzz: {running.base_url} with the {args.schema} document "
        f"({len(document.get('paths') or {})} paths), seed {args.seed}")
    doc_source = "issue 6 scope 1; digest §9"
    if args.schema == "target":
        for check in validate_document(document, running.base_url):
            add(check.id, check.level, "openapi", check.rule, doc_source, "", outcome_of(check.ok), check.detail)

    schema = load_schema(document, running.base_url)
    fuzzer = Fuzzer(schema, running.base_url, max_examples=args.max_examples, duration_s=args.duration,
                    seed=args.seed, empty_blob_hash=_empty_blob_hash(args.blob_signing, running.name),
                    negative_share=args.negative_share, collections=_collections(), operations=args.operation,
                    log=log)
    fuzzer.run()
    loads = check_loads(fuzzer.load_errors)
    add(loads.id, loads.level, "openapi", loads.rule, doc_source, "", outcome_of(loads.ok), loads.detail)

    reproducers = _write_reproducers(fuzzer, output, args)
    exercised = {s.operation for s in fuzzer.stats if s.examples}
    for name, rule in CHECK_RULES.items():
        level = LEVELS.get(name, "SHOULD")
        source = f"schemathesis check `{name}`" + (f" ({CHECK_NOTES[name]})" if name in CHECK_NOTES else "")
        for operation in sorted(exercised):
            finding = fuzzer.findings.get((name, operation))
            if finding is not None:
                detail = (f"{finding.count} failing request(s); first one ({finding.reproducer['mode']} case):\n"
                          f"{finding.detail}\nReplay: {reproducers[(name, operation)]}")
                outcome = R.INFO if level == "INFO" else R.FAIL
                add(f"fuzz.{name}", level, "fuzz", rule, source, operation, outcome, detail,
                    exchanges=[finding.exchange] if finding.exchange else [])
            elif name == "transport" or (name, operation) in fuzzer.passes:
                add(f"fuzz.{name}", level, "fuzz", rule, source, operation, R.INFO if level == "INFO" else R.PASS)
    for stats in fuzzer.stats:
        if stats.error:
            add("fuzz.generation", "SHOULD", "fuzz", "Schemathesis can generate cases for every operation",
                "schemathesis", stats.operation, R.ERROR, stats.error)

    pool = IdentityPool(2, collections=_collections())  # fresh owners: the fuzzed documents are not theirs
    for sequence in (push_pull(document, running.base_url, pool, args.seed),
                     append_checkpoint(document, running.base_url, pool, args.seed)):
        add(sequence.id, "MUST", "stateful", sequence.rule, "issue 6 scope 3; digest §1.6, §1.7, §3.3",
            "", outcome_of(sequence.ok), sequence.detail, sequence.duration_s, sequence.exchanges)

    results = R.fold(cases, target=running.name, target_spec=running.spec)
    _attach_reproducers(results, reproducers, running.spec, args.schema)
    requests_sent = sum(s.examples for s in fuzzer.stats)
    meta = {"target": running.name, "spec": running.spec, "level": "should",
            "duration_s": round(time.monotonic() - started, 2),
            "finished": dt.datetime.now().isoformat(timespec="seconds"),
            "schema": args.schema, "seed": args.seed, "max_examples": args.max_examples,
            "budget_s": args.duration, "budget_exhausted": fuzzer.budget_exhausted,
            "operations": len(fuzzer.stats), "requests": requests_sent,
            "findings": sum(1 for f in fuzzer.findings.values() if LEVELS.get(f.check) != "INFO")}
    return results, meta


def _write_reproducers(fuzzer: Any, output: Path, args: argparse.Namespace) -> dict[tuple[str, str], str]:
    folder = output / "reproducers"
    paths: dict[tuple[str, str], str] = {}
    for key, finding in sorted(fuzzer.findings.items()):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_slug(finding.check)}--{_slug(finding.operation)}.json"
        record = {"format": "starfish-fuzz-reproducer/1", "schema": args.schema, "seed": args.seed,
                  "note": "unsigned case: replay signs it with a fresh identity of kind `signer` and a fresh nonce; "
                          "`$signer.identity` path values become that identity",
                  **finding.reproducer}
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths[key] = str(path)
    return paths


def _attach_reproducers(results: list[Any], reproducers: dict[tuple[str, str], str], spec: str,
                        schema: str) -> None:
    for result in results:
        if result.reproducer is None:
            continue
        files = [path for (check, _op), path in sorted(reproducers.items()) if f"fuzz.{check}" == result.id]
        if not files:  # a document check or a sequence: re-run them (fresh identities), fuzzing minimally
            result.reproducer = {
                "command": f"starfish-conformance fuzz --target {spec} --schema {schema} --max-examples 1",
                "note": "re-checks the document and re-runs the sequences with fresh identities and nonces",
                "exchanges": result.reproducer.get("exchanges", [])}
            continue
        result.reproducer = {
            "command": f"starfish-conformance fuzz --target {spec} --schema {schema} --replay {files[0]}",
            "note": "replay re-signs the stored unsigned case with a fresh identity and nonce; "
                    "pass the reproducers folder to replay every finding",
            "files": files, "exchanges": result.reproducer.get("exchanges", []),
        }


def _write_junit(path: Path, results: list[Any], meta: dict[str, Any]) -> None:
    from xml.sax.saxutils import escape, quoteattr

    from reports import results as R

    failures = sum(1 for r in results if r.outcome == R.FAIL)
    errors = sum(1 for r in results if r.outcome == R.ERROR)
    skipped = sum(1 for r in results if r.outcome == R.SKIP)
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<testsuites>",
             f'<testsuite name="starfish-fuzz" tests="{len(results)}" failures="{failures}" errors="{errors}" '
             f'skipped="{skipped}" time="{meta["duration_s"]}">']
    for r in results:
        lines.append(f"<testcase classname={quoteattr('fuzz.' + r.area)} name={quoteattr(r.id)} "
                     f'time="{r.duration_s}">')
        if r.outcome == R.FAIL:
            lines.append(f"<failure message={quoteattr(r.rule)}>{escape(r.detail)}</failure>")
        elif r.outcome == R.ERROR:
            lines.append(f"<error message={quoteattr(r.rule)}>{escape(r.detail)}</error>")
        elif r.outcome == R.SKIP:
            lines.append(f"<skipped message={quoteattr(r.detail[:200])}/>")
        lines.append("</testcase>")
    lines += ["</testsuite>", "</testsuites>"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _finish(results: list[Any], meta: dict[str, Any], output: Path, *, quiet: bool) -> int:
    from reports import results as R
    from reports.html import write_html
    from reports.summary import terminal_lines, write_summary

    output.mkdir(parents=True, exist_ok=True)
    R.write_jsonl(output / "results.jsonl", results)
    (output / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
    write_summary(output / "summary.md", results, meta)
    write_html(output / "report.html", results, meta)
    _write_junit(output / "junit.xml", results, meta)
    for line in terminal_lines(results, meta, output):
        print(line)
    doc_failures = sum(1 for r in results if r.area == "openapi" and r.outcome == R.FAIL)
    print(f"fuzz: {meta['requests']} requests over {meta['operations']} operations, {meta['findings']} fuzzing "
          f"finding(s), {doc_failures} document check(s) failed"
          f"{' (time budget reached)' if meta['budget_exhausted'] else ''}")
    if any(r.outcome == R.FAIL and r.level in ("MUST", "SHOULD") for r in results):
        return 1
    if any(r.outcome == R.ERROR for r in results):
        return 3
    return 0


# ----------------------------------------------------------------------------------------------- replay


def load_reproducers(path: Path) -> list[dict[str, Any]]:
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    return [json.loads(file.read_text(encoding="utf-8")) for file in files]


def _decode_body(body: Any) -> Any:
    import base64

    from schemathesis.core import NOT_SET

    if isinstance(body, dict) and body.get("$notset") is True and len(body) == 1:
        return NOT_SET
    if isinstance(body, dict) and set(body) == {"$base64"}:
        return base64.b64decode(body["$base64"])
    return body


def replay_one(record: dict[str, Any], schema: Any, base_url: str, empty_blob_hash: bool) -> tuple[bool, str]:
    """Send the stored case again, freshly signed; True when the failure still shows."""
    import requests

    from conformance.fuzz_auth import IdentityPool, SigningAuth
    from conformance.fuzz_engine import check_functions

    operation = schema.find_operation_by_label(record["operation"])
    if operation is None:
        return False, f"the document has no operation {record['operation']!r} any more"
    device = IdentityPool(1, collections=_collections()).next()
    params = {k: device.identity if v == "$signer.identity" else v for k, v in record["path_parameters"].items()}
    case = operation.Case(path_parameters=params, query=record.get("query") or {}, headers=record.get("headers") or {},
                          body=_decode_body(record.get("body")), media_type=record.get("media_type"))
    auth = SigningAuth(device, empty_blob_hash=empty_blob_hash) if record.get("signer") else None
    try:
        response = case.call(base_url=base_url, auth=auth, timeout=10)
    except requests.RequestException as exc:
        return True, f"no answer: {type(exc).__name__}: {exc}"
    summary = f"{case.method} {response.request.url} -> {response.status_code} {response.text[:300]!r}"
    check = check_functions().get(record["check"])
    if record["check"] == "transport":
        return False, summary
    if check is None:
        return False, f"unknown check {record['check']!r}; {summary}"
    transport: dict[str, Any] = {"base_url": base_url, "timeout": 10}
    if auth is not None:
        transport["auth"] = auth
    try:
        case.validate_response(response, checks=[check], transport_kwargs=transport)
    except (AssertionError, BaseExceptionGroup) as exc:
        from conformance.fuzz_engine import _failure_text

        return True, f"{summary}\n{_failure_text(exc)}"
    return False, summary


def replay_command(args: argparse.Namespace, target: Any) -> int:
    from conformance.cli import UsageError
    from conformance.fuzz_engine import load_schema
    from conformance.targets import TargetError

    path = Path(args.replay)
    if not path.exists():
        raise UsageError(f"no reproducer at {path}")
    try:
        records = load_reproducers(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    reproduced = 0
    with tempfile.TemporaryDirectory(prefix="starfish-fuzz-") as workdir:
        try:
            running = target.start(Path(workdir))
        except TargetError as exc:
            raise UsageError(f"target {args.target}: {exc}") from None
        try:
            for record in records:
                source = record.get("schema", args.schema)
                schema = load_schema(fetch_document(source, running.base_url), running.base_url)
                still, text = replay_one(record, schema, running.base_url,
                                         _empty_blob_hash(args.blob_signing, running.name))
                reproduced += still
                print(f"{'REPRODUCED' if still else 'NOT REPRODUCED'}  {record['check']}  {record['operation']}")
                print("    " + text.replace("\n", "\n    "))
        finally:
            target.stop()
    print(f"replay: {reproduced} of {len(records)} reproduced")
    return 1 if reproduced else 0
