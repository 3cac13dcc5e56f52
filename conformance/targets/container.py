"""`image:NAME[:TAG]`: a server image run as a container through testcontainers-python (podman or Docker).

The container contract (targets/README.md): the image serves HTTP on `$PORT` (the harness sets 8080) on
every interface (`HOST=0.0.0.0` is set too), loads the collection config at `$STARFISH_CONFIG` (the
harness bind-mounts the conformance profile read-only at /etc/starfish/config.json), mounts the protocol
under `$STARFISH_PREFIX` (`/v1`) and answers `GET /v1/health` with 200 when ready.

The engine: `DOCKER_HOST` when set; otherwise podman's API socket at /run/podman/podman.sock when it
exists; otherwise docker-py's default. Ryuk (testcontainers' reaper) cannot be pulled on machines
without a registry, so it is disabled and the harness cleans up itself: every container is labelled
with `org.starfish-conformance.owner=<host>:<pid>`, removed in `stop()` and at interpreter exit, and
containers left by a crashed run (owner process gone) are removed when the next one starts.

The target's name, which picks the expectations file, is the image's last path segment without tag:
`image:localhost/starfish-conformance/starfish-server-py:3.0.0a72` is `starfish-server-py`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
from pathlib import Path
from typing import Any

from conformance.profile import PROFILE_PATH
from conformance.targets.base import RunningTarget, Target, TargetError, wait_healthy

CONTAINER_PORT = 8080
CONFIG_IN_CONTAINER = "/etc/starfish/config.json"
PREFIX = "/v1"
LABEL = "org.starfish-conformance"
OWNER_LABEL = f"{LABEL}.owner"
PODMAN_SOCKET = "/run/podman/podman.sock"
# Images of these implementations sign blob uploads over an empty body, like their process targets.
EMPTY_BODY_BLOB_SIGNERS = ("starfish-server-py", "starfish-server-ts")
SETUP_HINT = ("set up podman with `scripts/setup-podman.sh` (as root: installs podman, writes containers.conf, "
              "starts the API socket at /run/podman/podman.sock), or point DOCKER_HOST at a running Docker or "
              "podman API socket")


def engine_environment() -> dict[str, str]:
    """Point testcontainers at the engine: DOCKER_HOST if set, else podman's socket when present."""
    updates: dict[str, str] = {}
    host = os.environ.get("DOCKER_HOST")
    if not host and os.path.exists(PODMAN_SOCKET):
        host = updates["DOCKER_HOST"] = f"unix://{PODMAN_SOCKET}"
    # Ryuk cannot be pulled here, and inside a container-like machine testcontainers guesses the wrong
    # connection mode (KeyError: 'HostConfig'); the harness labels and removes its containers itself.
    updates.setdefault("TESTCONTAINERS_RYUK_DISABLED", os.environ.get("TESTCONTAINERS_RYUK_DISABLED", "true"))
    updates.setdefault("TESTCONTAINERS_CONNECTION_MODE",
                       os.environ.get("TESTCONTAINERS_CONNECTION_MODE", "docker_host"))
    no_proxy = os.environ.get("NO_PROXY", "")
    if "127.0.0.1" not in no_proxy:
        updates["NO_PROXY"] = ",".join(p for p in (no_proxy, "127.0.0.1,localhost") if p)
    os.environ.update(updates)
    return {"DOCKER_HOST": host or "(docker-py default: unix:///var/run/docker.sock)", **updates}


def engine_client() -> Any:
    """A connected docker-py client, or TargetError saying what is missing and how to set it up."""
    try:
        import docker
    except ImportError:
        raise TargetError("image targets need testcontainers-python (pip install 'testcontainers>=4.8,<5')") \
            from None
    env = engine_environment()
    try:
        client = docker.from_env(timeout=20)
        client.ping()
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise TargetError(f"no container engine reachable at {env['DOCKER_HOST']} ({reason}); {SETUP_HINT}") \
            from None
    return client


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def reap_orphans(client: Any) -> list[str]:
    """Remove containers this harness started on this host whose owning process is gone (a crashed run)."""
    removed = []
    host = socket.gethostname()
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        owner = (container.labels or {}).get(OWNER_LABEL, "")
        owner_host, _, pid = owner.rpartition(":")
        if owner_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            container.remove(force=True)
            removed.append(container.short_id)
        except Exception:
            continue
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def image_name(image: str) -> str:
    """`localhost/ns/starfish-server-py:3.0` -> `starfish-server-py` (digests and tags dropped)."""
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


class ImageTarget(Target):
    def __init__(self, image: str, *, ready_timeout_s: float = 60.0) -> None:
        if not image or any(c.isspace() for c in image) or not image_name(image):
            raise TargetError(f"image target must look like image:NAME[:TAG] (got image:{image!r})")
        self.image = image
        self.spec = f"image:{image}"
        self.name = image_name(image)
        self.ready_timeout_s = ready_timeout_s
        self._container: Any = None
        self._log_path: Path | None = None

    @classmethod
    def from_spec(cls, spec: str) -> ImageTarget:
        return cls(spec.removeprefix("image:").strip())

    def preflight(self) -> None:
        self._check_image().close()

    def _check_image(self) -> Any:
        client = engine_client()
        try:
            client.images.get(self.image)
        except Exception:
            client.close()
            raise TargetError(
                f"image {self.image!r} is not in the engine's local store; build the bundled ones with "
                f"`starfish-conformance images build`, or load yours (no registry is pulled from)") from None
        return client

    def start(self, workdir: Path) -> RunningTarget:
        client = self._check_image()
        reap_orphans(client)
        client.close()
        from testcontainers.core.container import DockerContainer

        config_copy = workdir / "starfish-config.json"
        config_copy.write_bytes(PROFILE_PATH.read_bytes())
        container = (
            DockerContainer(self.image)
            .with_env("PORT", str(CONTAINER_PORT))
            .with_env("HOST", "0.0.0.0")
            .with_env("STARFISH_CONFIG", CONFIG_IN_CONTAINER)
            .with_env("STARFISH_PREFIX", PREFIX)
            .with_exposed_ports(CONTAINER_PORT)
            .with_volume_mapping(str(config_copy), CONFIG_IN_CONTAINER, "ro")
            .with_kwargs(labels={LABEL: "1", OWNER_LABEL: _owner(), f"{LABEL}.image": self.image})
        )
        self._container = container
        atexit.register(self.stop)
        try:
            container.start()
            host = container.get_container_host_ip()
            if host in ("localhost", "::1"):
                host = "127.0.0.1"
            base_url = f"http://{host}:{container.get_exposed_port(CONTAINER_PORT)}{PREFIX}"
            wait_healthy(base_url, timeout_s=self.ready_timeout_s, alive=self._running)
        except Exception as exc:
            logs = self._logs()
            self.stop()
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TargetError(f"container {self.image}: {message}; container output ends with: "
                              f"{logs[-800:].strip() or '(nothing)'}") from None
        log_path = self._log_path = workdir / f"{self.name}-container.log"
        return RunningTarget(self.name, self.spec, base_url, log_path=log_path,
                             details={"image": self.image, "container": container.get_wrapped_container().short_id,
                                      **({"blob_signing": "empty-body"} if self.name in EMPTY_BODY_BLOB_SIGNERS
                                         else {})})

    def _running(self) -> bool:
        try:
            wrapped = self._container.get_wrapped_container()
            wrapped.reload()
            return wrapped.status in ("created", "running")
        except Exception:
            return False

    def _logs(self) -> str:
        try:
            out, err = self._container.get_logs()
            return (out + err).decode(errors="replace")
        except Exception:
            return ""

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is None:
            return
        if self._log_path is not None:  # keep the server's output beside the run, then remove the container
            with contextlib.suppress(Exception):
                out, err = container.get_logs()
                self._log_path.write_bytes(out + err)
        with contextlib.suppress(Exception):  # already gone; orphans are reaped on the next start
            container.stop(force=True)
