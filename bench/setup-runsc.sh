#!/usr/bin/env bash
# The bench's one set-up step beyond scripts/setup-host.sh: installs gVisor (Debian's runsc)
# and registers it with the running Docker engine as the runtime "runsc":
#   --platform=ptrace  the kvm platform hangs on a paravirtual KVM, and these hosts have no
#                      other;
#   --network=host     gVisor's own network stack (netstack) refuses to start on Linux 6.x:
#                      runsc 2022 takes any network namespace in which
#                      /proc/sys/net/core/rmem_default exists for the host's root one ("cannot
#                      run with network enabled in root network namespace"), and newer kernels
#                      have that file in every namespace. With --network=host the sandbox's
#                      socket calls go to the host kernel, still inside the container's own
#                      network namespace (its own address on a Docker network).
# Idempotent; run as root. The engine is reloaded with SIGHUP, never restarted: containers that are
# running (a CI run's) keep running. /etc/docker/daemon.json gets only a "runtimes" entry:
# setup-host.sh starts dockerd with its options as flags, and a key given both ways would
# make the engine refuse the file.
set -euo pipefail

log() { printf '\033[1msetup-runsc:\033[0m %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  exec sudo --preserve-env=PATH bash "$0" "$@"
fi

if ! command -v runsc >/dev/null; then
  log "installing runsc"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends runsc >/dev/null
fi
runsc=$(command -v runsc)

config=/etc/docker/daemon.json
mkdir -p "$(dirname "$config")"
# Merge into the file that may be there (other keys kept), written to a temp file, then renamed.
node - "$config" "$runsc" <<'EOF'
const fs = require('node:fs');
const [file, runsc] = process.argv.slice(2);
let config = {};
try {
  config = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (error) {
  if (error.code !== 'ENOENT') throw new Error(`${file}: ${error.message} (fix or remove it)`);
}
config.runtimes = { ...config.runtimes, runsc: { path: runsc, runtimeArgs: ['--platform=ptrace', '--network=host'] } };
fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
fs.renameSync(`${file}.tmp`, file);
EOF

registered() { docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc":{[^}]*"--network=host"'; }
if ! registered; then
  pid=$(pidof dockerd) || { log "no dockerd runs: start one (bash scripts/setup-host.sh), then run this again"; exit 1; }
  log "reloading dockerd (pid $pid) with SIGHUP"
  kill -HUP "$pid"
  for _ in $(seq 1 50); do registered && break; sleep 0.1; done
  if ! registered; then
    log "dockerd did not take the runtime: its log says why (for setup-host.sh's engine: /var/log/nabla-dockerd.log)"
    exit 1
  fi
fi
log "runsc $(runsc --version | head -1 | awk '{ print $3 }') is registered as the runtime \"runsc\" (--platform=ptrace --network=host)"
