#!/usr/bin/env bash
# Benchmark (not a test): the two ways the libOS sets thread pointers, side by side in one
# run (README, "Security model": which hosts get which policy).
#   cpu        wrfsbase, no host call (hosts with FSGSBASE only)
#   host-call  the pinned arch_prctl(ARCH_SET_FS) host call at every thread switch
#              (what hosts without FSGSBASE get; NABLA_FS_BASE=host-call forces it anywhere)
# Measures, with the same images:
#   - ns per green-thread switch (bench/c/switch.c: two threads yielding, best of 5 rounds)
#   - python -m http.server (a thread per request), requests/s: wrk -t2 -c8 -d5s from the
#     c toolchain image, median of 3 interleaved rounds
#   - for scale: one arch_prctl(ARCH_GET_FS) system call on this host, ns (plain process)
# On a host without FSGSBASE the cpu column says so and the ratio is left out.
# Usage: bench/fs-base.sh   (needs a Docker engine, the base image and `npm run build` done)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
cli=./bin/nabla-build.js
net=nabla-bench-fsb subnet=10.94.0.0/24
tools=$($cli -q toolchain build c)
work=$(mktemp -d)
remove_containers() {
  docker rm -f nabla-bench-fsb-cpu nabla-bench-fsb-host-call >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
}
remove_containers
trap 'remove_containers; docker rmi -f nabla-bench/fsb-switch nabla-bench/fsb-http >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

modes="host-call"
if docker run --rm --network none "$tools" /opt/nabla/bin/nabla-run --fs-base=cpu --print-policy >/dev/null 2>&1; then
  modes="cpu host-call"
fi

mkdir -p "$work/switch" "$work/http"
cp bench/c/switch.c "$work/switch/"
printf 'hello from http.server\n' > "$work/http/index.html"
printf '{"language": "python", "entry": "http.server", "args": ["8000", "--bind", "0.0.0.0"], "ports": [8000]}\n' > "$work/http/nabla.json"
$cli -q build "$work/switch" --load -t nabla-bench/fsb-switch >/dev/null
$cli -q build "$work/http" --load -t nabla-bench/fsb-http >/dev/null

syscall_ns=$(docker run --rm --network none -v "$PWD/bench/c:/bench:ro" "$tools" bash -c '
  cd /tmp && cat > sc.c <<C
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) { struct timespec a, b; unsigned long fs; double best = 1e9;
  for (int r = 0; r < 5; r++) { clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 100000; i++) syscall(SYS_arch_prctl, 0x1003, &fs);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e5; if (ns < best) best = ns; }
  printf("%.0f\n", best); return 0; }
C
  gcc -O2 -o sc sc.c && ./sc')

docker network create --subnet "$subnet" "$net" >/dev/null
ip=10
for m in $modes; do
  echo "10.94.0.$ip" > "$work/ip-$m"
  docker run -d --name "nabla-bench-fsb-$m" --network "$net" --ip "10.94.0.$ip" -e "NABLA_FS_BASE=$m" \
    --cap-add NET_ADMIN --device /dev/net/tun nabla-bench/fsb-http >/dev/null
  ip=$((ip + 1))
done
for m in $modes; do
  for _ in $(seq 100); do curl -sf "http://$(cat "$work/ip-$m"):8000/" >/dev/null && break; sleep 0.1; done
done
wrk_rps() {
  docker run --rm --network host "$tools" wrk -t2 -c8 -d5s "http://$1:8000/" | awk '/Requests\/sec/ { printf "%.0f\n", $2 }'
}
for _ in 1 2 3; do
  for m in $modes; do
    docker run --rm --network none -e "NABLA_FS_BASE=$m" nabla-bench/fsb-switch >> "$work/switch-$m"
    wrk_rps "$(cat "$work/ip-$m")" >> "$work/rps-$m"
  done
done

value() { if [ -s "$work/$1-$2" ]; then median "$work/$1-$2"; else echo "n/a (no FSGSBASE here)"; fi; }
sc=$(value switch cpu) sh=$(value switch host-call) rc=$(value rps cpu) rh=$(value rps host-call)
r_switch='—' r_rps='—'
if [ -s "$work/switch-cpu" ]; then r_switch=$(ratio "$sh" "$sc") r_rps=$(ratio "$rh" "$rc"); fi
printf '\n| FS base set by | cpu (wrfsbase) | host-call (arch_prctl) | host-call / cpu |\n|---|---|---|---|\n'
printf '| green-thread switch, ns (best of 5, median of 3 runs) | %s | %s | %s |\n' "$sc" "$sh" "$r_switch"
printf '| python -m http.server, requests/s (wrk -c8, median of 3) | %s | %s | %s |\n' "$rc" "$rh" "$r_rps"
printf '| one host system call, arch_prctl(ARCH_GET_FS), ns | | %s | |\n' "$syscall_ns"
