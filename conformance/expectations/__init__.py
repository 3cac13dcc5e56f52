"""Per-implementation expectations: the known failures of one implementation, in one file.

`conformance/expectations/<implementation>.toml` (or any file given with `--expectations`):

    [[expectation]]
    check = "auth.public.invalid-cap-rejected"   # a check id; `*` globs allowed
    status = "xfail"                             # xfail: runs, failure expected; skip: not run
    reason = "public routes ignore auth headers entirely"
    link = "docs/findings.md#public-fast-path"
    expires = 2027-06-01                         # optional; after it the expectation is ignored

An xfail whose check now passes is reported as `stale`, so the file cannot silently rot.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
STATUSES = ("xfail", "skip")


class ExpectationsError(ValueError):
    """The expectations file is unreadable or malformed; the message names the file and entry."""


@dataclass(frozen=True)
class Expectation:
    check: str
    status: str
    reason: str
    link: str = ""
    expires: dt.date | None = None

    def matches(self, check_id: str) -> bool:
        return fnmatch.fnmatchcase(check_id, self.check)

    def expired(self, today: dt.date | None = None) -> bool:
        return self.expires is not None and (today or dt.date.today()) > self.expires

    def as_dict(self) -> dict[str, str]:
        return {"status": self.status, "reason": self.reason, "link": self.link,
                "expires": self.expires.isoformat() if self.expires else ""}


def for_implementation(name: str) -> Path | None:
    """The bundled expectations file for an implementation name, if there is one."""
    path = FOLDER / f"{name}.toml"
    return path if path.exists() else None


def load(path: Path) -> list[Expectation]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExpectationsError(f"cannot read expectations file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationsError(f"{path} is not valid TOML: {exc}") from None
    entries = document.get("expectation", [])
    if not isinstance(entries, list):
        raise ExpectationsError(f"{path}: use [[expectation]] tables")
    out = []
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: expectation {index}"
        if not isinstance(entry.get("check"), str) or not entry["check"]:
            raise ExpectationsError(f"{where}: `check` (a check id) is required")
        if entry.get("status") not in STATUSES:
            raise ExpectationsError(f"{where} ({entry['check']}): `status` must be one of {', '.join(STATUSES)}")
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            raise ExpectationsError(f"{where} ({entry['check']}): a `reason` is required")
        expires = entry.get("expires")
        if expires is not None and not isinstance(expires, dt.date):
            raise ExpectationsError(f"{where} ({entry['check']}): `expires` must be a TOML date like 2027-06-01")
        unknown = set(entry) - {"check", "status", "reason", "link", "expires"}
        if unknown:
            raise ExpectationsError(f"{where} ({entry['check']}): unknown keys {', '.join(sorted(unknown))}")
        out.append(Expectation(entry["check"], entry["status"], entry["reason"].strip(), entry.get("link", ""),
                               expires))
    return out
