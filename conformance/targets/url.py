"""`url:http://HOST:PORT/PREFIX`: a server someone else already runs. The harness only checks it answers."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from conformance.targets.base import RunningTarget, Target, TargetError, wait_healthy


class UrlTarget(Target):
    def __init__(self, url: str, *, name: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise TargetError(f"url target must look like url:http://127.0.0.1:8000/v1 (got {url!r})")
        self.base_url = url.rstrip("/")
        self.spec = f"url:{self.base_url}"
        self.name = name or "url-" + parts.netloc.replace(":", "-").replace("[", "").replace("]", "")

    def start(self, workdir: Path) -> RunningTarget:
        wait_healthy(self.base_url, timeout_s=10.0)
        return RunningTarget(self.name, self.spec, self.base_url)
