"""`starfish-conformance images build [IMPL...]`: local container images of the three implementations.

Images are built with the podman CLI (`podman build --pull=never`) from the Containerfiles under
`containers/`, on a base image made with debootstrap (no registry is reachable from these machines).
Every package is fetched on the host, never inside a build: wheels with `pip download` for CPython 3.11
manylinux (the base image's Python), npm packages with `npm ci` (conformance/targets/official_ts.py).
The wheelhouse's hash is passed as a build-arg, because bind-mounted wheels are not part of the layer
cache key. Images are tagged `localhost/starfish-conformance/<impl>:<version>` and `:latest`, and labelled
`org.starfish-conformance=1`, so `--target image:localhost/starfish-conformance/<impl>` runs them.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.profile import PROFILE_PATH
from conformance.targets import official_py, official_ts
from conformance.targets.official_py import cache_root

REPO = Path(__file__).resolve().parent.parent
CONTAINERS = REPO / "containers"
NAMESPACE = "localhost/starfish-conformance"
BASE_IMAGE = f"{NAMESPACE}/base:bookworm"
IMPLEMENTATIONS = ("reference", "starfish-server-py", "starfish-server-ts")
DEBOOTSTRAP_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates,libstdc++6"
PIP_PLATFORM = ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11",
                "--abi", "cp311", "--abi", "abi3", "--abi", "none",
                *[arg for tag in ("manylinux_2_36_x86_64", "manylinux_2_34_x86_64", "manylinux_2_28_x86_64",
                                  "manylinux_2_26_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
                                  "any") for arg in ("--platform", tag)]]


class ImageBuildError(RuntimeError):
    """An image could not be built; the message says which step and what to do."""


def _run(command: list[str], what: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).strip().splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()]
        raise ImageBuildError(f"{what} failed: {(errors or lines or ['(no output)'])[-1].strip()}")
    return result


def podman() -> str:
    path = shutil.which("podman")
    if path is None:
        raise ImageBuildError("images are built with podman, which is not installed; run scripts/setup-podman.sh "
                              "(as root) first")
    return path


def image_exists(name: str) -> bool:
    return subprocess.run([podman(), "image", "exists", name], capture_output=True).returncode == 0


def build_base(*, force: bool = False, log=print) -> str:  # type: ignore[no-untyped-def]
    """The debootstrap base image, made when missing (45-70 s of debootstrap)."""
    if image_exists(BASE_IMAGE) and not force:
        return BASE_IMAGE
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("the base image is made with debootstrap, which is not installed; run "
                              "scripts/setup-podman.sh (as root) first")
    log(f"images: making {BASE_IMAGE} with debootstrap (about a minute)")
    with tempfile.TemporaryDirectory(prefix="starfish-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _run(["debootstrap", "--variant=minbase", f"--include={DEBOOTSTRAP_PACKAGES}", "bookworm", str(rootfs),
              "http://deb.debian.org/debian"], "debootstrap")
        for junk in ("var/cache/apt", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        _run([podman(), "import", "--change", 'CMD ["/bin/bash"]', "--change", "LABEL org.starfish-conformance=1",
              "-", BASE_IMAGE], "podman import", stdin=tar.stdout)
        tar.wait()
    return BASE_IMAGE


def wheelhouse_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _download_wheels(requirements: list[str], wheels: Path) -> None:
    wheels.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet", "--dest", str(wheels),
          *PIP_PLATFORM, *requirements], "pip download (on the host)")
    (wheels / "requirements.txt").write_text("\n".join(requirements) + "\n")


def _context(impl: str) -> Path:
    folder = cache_root() / "images" / impl
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(CONTAINERS / impl / "Containerfile", folder / "Containerfile")
    shutil.copy(PROFILE_PATH, folder / "config.json")
    return folder


# What `reference_server` and `protocol` import at run time (the harness's own dependencies stay out).
REFERENCE_RUNTIME = ["uvicorn[standard]>=0.30", "cryptography>=42", "argon2-cffi>=23.1", "jsonschema>=4.21"]


def prepare_reference(version: str | None) -> tuple[Path, str, dict[str, str]]:
    context = _context("reference")
    shutil.copy(CONTAINERS / "reference" / "serve.py", context / "serve.py")
    wheels = context / "wheels"
    _download_wheels(REFERENCE_RUNTIME, wheels)
    _run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--quiet", "--no-deps",
          "--wheel-dir", str(wheels), str(REPO)], "building this project's wheel")
    own = next(wheels.glob("starfish_conformance-*.whl"))
    project_version = own.name.split("-")[1]
    return context, version or project_version, {"WHEELHOUSE_HASH": wheelhouse_hash(wheels)}


def prepare_official_py(version: str | None) -> tuple[Path, str, dict[str, str]]:
    version = official_py.check_version(official_py.NAME, version or official_py.DEFAULT_VERSION)
    context = _context("starfish-server-py")
    _download_wheels(official_py.requirements(version), context / "wheels")
    shutil.copy(official_py.LAUNCHER, context / "launcher.py")
    return context, version, {"WHEELHOUSE_HASH": wheelhouse_hash(context / "wheels"), "VERSION": version}


def prepare_official_ts(version: str | None) -> tuple[Path, str, dict[str, str]]:
    version = official_ts.check_version(official_ts.NAME, version or official_ts.DEFAULT_VERSION,
                                        official_ts.DEFAULT_VERSION)
    installed = official_ts.ensure_install(version)
    context = _context("starfish-server-ts")
    shutil.copytree(installed, context / "app", ignore=shutil.ignore_patterns(".complete"))
    node = shutil.which("node")
    if node is None:
        raise ImageBuildError("the TypeScript image copies the host's Node.js (>= 20.19), which is not on PATH")
    shutil.copy(Path(node).resolve(), context / "node")
    return context, version, {"VERSION": version}


PREPARE = {"reference": prepare_reference, "starfish-server-py": prepare_official_py,
           "starfish-server-ts": prepare_official_ts}


def build(impl: str, *, version: str | None = None, no_cache: bool = False,
          log=print) -> str:  # type: ignore[no-untyped-def]
    """Build one implementation's image; returns its `name:version` tag."""
    if impl not in PREPARE:
        raise ImageBuildError(f"unknown implementation {impl!r}; choose from {', '.join(IMPLEMENTATIONS)}")
    build_base(log=log)
    started = time.monotonic()
    context, tag_version, build_args = PREPARE[impl](version)
    name = f"{NAMESPACE}/{impl}"
    command = [podman(), "build", "--pull=never", "--layers", "-f", str(context / "Containerfile"),
               "-t", f"{name}:{tag_version}", "--label", "org.starfish-conformance=1",
               *[arg for key, value in build_args.items() for arg in ("--build-arg", f"{key}={value}")]]
    if version is None:
        command += ["-t", f"{name}:latest"]
    if no_cache:
        command.append("--no-cache")
    _run([*command, str(context)], f"podman build of {impl}")
    log(f"images: built {name}:{tag_version}{' and :latest' if version is None else ''} "
        f"in {time.monotonic() - started:.1f} s")
    return f"{name}:{tag_version}"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "images", help="build container images of the implementations (podman)",
        description="Build local images of the reference server and the official servers with podman.")
    sub = parser.add_subparsers(dest="images_command", metavar="ACTION")
    build_parser = sub.add_parser("build", help="build images (default: all three)")
    build_parser.add_argument("implementations", nargs="*", metavar="IMPL",
                              help=f"any of {', '.join(IMPLEMENTATIONS)} (default: all)")
    build_parser.add_argument("--version", help="the official server's version (one implementation only)")
    build_parser.add_argument("--no-cache", action="store_true", help="rebuild every layer")
    build_parser.add_argument("--rebuild-base", action="store_true", help="remake the debootstrap base image")
    build_parser.set_defaults(handler=_build_main)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)


def _build_main(args: argparse.Namespace) -> int:
    from conformance.cli import UsageError

    impls = args.implementations or list(IMPLEMENTATIONS)
    unknown = [i for i in impls if i not in IMPLEMENTATIONS]
    if unknown:
        raise UsageError(f"unknown implementation {unknown[0]!r}; choose from {', '.join(IMPLEMENTATIONS)}")
    if args.version and len(impls) != 1:
        raise UsageError("--version applies to one implementation; name it, e.g. images build starfish-server-py")
    try:
        if args.rebuild_base:
            build_base(force=True)
        for impl in impls:
            tag = build(impl, version=args.version, no_cache=args.no_cache)
            print(f"  run it: starfish-conformance run --target image:{tag}")
    except ImageBuildError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:  # a TargetError from the npm/pip set-up
        if type(exc).__name__ in ("TargetError", "OfficialServerSetupError"):
            raise UsageError(str(exc)) from None
        raise
    return 0
