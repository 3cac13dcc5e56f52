#!/usr/bin/env bash
# Set up podman as the container engine for `image:` targets, idempotently (run as root; CI runs it).
#   1. installs podman, runc and debootstrap if missing;
#   2. writes the settings /etc/containers/containers.conf needs on these machines (no systemd, hybrid
#      cgroups, no RLIMIT_NOFILE changes) when they are not there yet;
#   3. starts podman's Docker-compatible API socket at /run/podman/podman.sock unless it already answers.
# Then point testcontainers at it (the harness does this itself when the socket exists):
#   export DOCKER_HOST=unix:///run/podman/podman.sock TESTCONTAINERS_RYUK_DISABLED=true \
#          TESTCONTAINERS_CONNECTION_MODE=docker_host
# The API service is not supervised: run this again after a reboot. Its PID is in /run/podman/service.pid.
set -euo pipefail

SOCKET=/run/podman/podman.sock
CONF=/etc/containers/containers.conf

if [ "$(id -u)" != 0 ]; then
    echo "setup-podman: run as root (it installs packages and writes $CONF)" >&2
    exit 2
fi

need=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "setup-podman: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi

mkdir -p /etc/containers
if ! grep -qs '^# starfish-conformance settings' "$CONF"; then
    if [ -s "$CONF" ]; then
        cp "$CONF" "$CONF.before-starfish-conformance"
        echo "setup-podman: replacing $CONF (previous copy: $CONF.before-starfish-conformance)"
    fi
    cat > "$CONF" <<'CONFEOF'
# starfish-conformance settings (scripts/setup-podman.sh)
[containers]
default_ulimits = []        # else: "setrlimit RLIMIT_NOFILE: Operation not permitted"

[engine]
cgroup_manager = "cgroupfs" # no systemd here
runtime = "runc"            # crun 1.8.1 refuses the hybrid cgroup v1/v2 layout
CONFEOF
fi

ping() { curl -fsS --max-time 2 --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; }
if ping; then
    echo "setup-podman: API socket already answers at $SOCKET"
else
    mkdir -p /run/podman
    rm -f "$SOCKET"  # a stale socket from a killed service would refuse connections
    setsid podman system service --time=0 "unix://$SOCKET" >/run/podman/service.log 2>&1 < /dev/null &
    echo $! > /run/podman/service.pid
    for _ in $(seq 1 50); do
        ping && break
        sleep 0.1
    done
    if ! ping; then
        echo "setup-podman: the API service did not answer at $SOCKET; see /run/podman/service.log" >&2
        exit 1
    fi
    echo "setup-podman: API socket ready at $SOCKET (service PID $(cat /run/podman/service.pid))"
fi
