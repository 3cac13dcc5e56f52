"""`mutant:NAME[,NAME...]`: the reference server with deliberate faults, for `starfish-conformance selfcheck`.

A process target like `reference`, started as `python -m reference_server.mutant --fault NAME`
(reference_server/faults.py lists the faults). For the signature faults the target also records every
request signature this process makes (the signature oracle, see faults.py), in a file in the target's
work folder that the mutant reads. Under xdist every worker starts its own mutant and its own record.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from conformance.targets.base import RunningTarget, TargetError
from conformance.targets.process import ProcessTarget
from conformance.targets.reference import server_flags
from protocol.constants import REQUEST_DOMAIN
from protocol.encoding import b64encode
from protocol.keys import SigningKey

_REQUEST_PREFIX = REQUEST_DOMAIN.encode("utf-8")


class MutantTarget(ProcessTarget):
    def __init__(self, faults: list[str]) -> None:
        from reference_server.faults import FAULTS

        unknown = [name for name in faults if name not in FAULTS]
        if not faults or unknown:
            raise TargetError(f"unknown fault {(unknown or [''])[0]!r} in mutant:...; "
                              f"`starfish-conformance selfcheck --list` names them")
        self.faults = list(faults)
        self.needs_oracle = any(FAULTS[name].oracle for name in faults)
        super().__init__([sys.executable, "-m", "reference_server.mutant"], spec="mutant:" + ",".join(faults),
                         name="mutant-" + "+".join(faults), ready_timeout_s=30.0)
        self._fault_args: list[str] = []
        self._recorder: SignatureRecorder | None = None

    @classmethod
    def from_spec(cls, spec: str) -> MutantTarget:
        return cls([name.strip() for name in spec.removeprefix("mutant:").split(",") if name.strip()])

    def start(self, workdir: Path) -> RunningTarget:
        args = [arg for name in self.faults for arg in ("--fault", name)]
        if self.needs_oracle:
            oracle = workdir / "signatures.jsonl"
            self._recorder = SignatureRecorder(oracle)
            self._recorder.install()
            args += ["--signature-oracle", str(oracle)]
        self._fault_args = args
        try:
            return super().start(workdir)
        except TargetError:
            self.stop()
            raise

    def command_for(self, port: int) -> list[str]:
        return [*self.command, *server_flags(port), *self._fault_args]

    def stop(self) -> None:
        super().stop()
        if self._recorder is not None:
            self._recorder.uninstall()
            self._recorder = None


class SignatureRecorder:
    """Appends `{"sig", "msg"}` (base64) for every request signature made in this process while installed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._original = None

    def install(self) -> None:
        if self._fd is not None:
            return
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        original = self._original = SigningKey.sign
        fd = self._fd

        def recording_sign(key: SigningKey, message: bytes) -> bytes:
            signature = original(key, message)
            if isinstance(message, bytes) and message.startswith(_REQUEST_PREFIX):
                line = json.dumps({"sig": b64encode(signature), "msg": b64encode(message)}) + "\n"
                os.write(fd, line.encode("ascii"))  # one write per line: O_APPEND keeps lines whole
            return signature

        SigningKey.sign = recording_sign  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            SigningKey.sign = self._original  # type: ignore[method-assign]
            self._original = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
