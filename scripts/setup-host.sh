#!/usr/bin/env bash
# Prepares a Debian (bookworm) machine for nabla-build and its tests: installs the Debian
# packages they use and starts a Docker engine when none answers. Idempotent; run as root.
# Used by the README's quick start and by .ci/run.
set -euo pipefail

log() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  exec sudo --preserve-env=PATH bash "$0" "$@"
fi

packages=(
  docker.io       # the engine (dockerd) and runc
  skopeo umoci    # tests read every output back with real OCI tools
  docker-registry # a real registry on 127.0.0.1 for push tests
  debootstrap     # `nabla-build toolchain bootstrap` makes the base image without a registry
  musl-tools      # tests compile tiny static guests on the host
  podman          # tests run the images under podman too (README "With podman")
  clang-format    # npm test checks the C style (test/unit/c-style.test.ts)
  ca-certificates curl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/nabla-dockerd.log)"
  # No iptables, no bridge: the machine may lack them; containers use --network host/none.
  nohup dockerd --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    >/var/log/nabla-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -n 20 /var/log/nabla-dockerd.log >&2
    log "dockerd did not start; see /var/log/nabla-dockerd.log"
    exit 1
  fi
fi
log "docker $(docker info --format '{{.ServerVersion}}') is up"
