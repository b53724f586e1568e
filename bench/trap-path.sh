#!/usr/bin/env bash
# Benchmark (not a test): the trap path, side by side in one run.
#   - getpid ns/call: a real system call (plain static musl), a libOS function call
#     (relinked), and a trapped call (the plain binary run beside the libOS: every system
#     call becomes SIGSYS + the libOS + rt_sigreturn)
#   - a CPU-bound Go program (bench/go/cpu): docker run of its nabla image vs the same
#     binary in a plain FROM-scratch image under runc
# Usage: bench/trap-path.sh   (needs a Docker engine and `npm run build` done)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
cli=./bin/nabla-build.js
image=$($cli -q toolchain build c)
work=$(mktemp -d)
trap 'rm -rf "$work"; docker rmi -f nabla-bench/go-cpu nabla-bench/go-cpu-plain >/dev/null 2>&1 || true' EXIT

read -r native relinked trapped < <(
  docker run --rm --network none -v "$PWD/bench/c:/bench:ro" "$image" bash -c "
    set -e; cd /tmp
    musl-gcc -O2 -static -no-pie -o getpid.native /bench/getpid.c
    nabla-cc -O2 -o getpid.nabla /bench/getpid.c
    tar -cf empty.tar --files-from /dev/null
    echo \$(./getpid.native) \$(/opt/nabla/bin/nabla-run --disk=empty.tar ./getpid.nabla) \
         \$(/opt/nabla/bin/nabla-run --disk=empty.tar --libos=/opt/nabla/lib/libos.nabla ./getpid.native 100000)
  ")

# The Go program: its nabla image, and its binary alone in a plain image.
$cli -q build bench/go/cpu --load -t nabla-bench/go-cpu >/dev/null
$cli -q build bench/go/cpu -o "type=dir,dest=$work/fs" >/dev/null
mkdir -p "$work/plain"
cp "$work/fs/nabla/cpu.nabla" "$work/plain/cpu"
printf 'FROM scratch\nCOPY cpu /cpu\nENTRYPOINT ["/cpu"]\n' > "$work/plain/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t nabla-bench/go-cpu-plain "$work/plain" >/dev/null 2>&1

run_ms() { # median wall time of `docker run --rm IMAGE` over 5 runs, alternating, in ms
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N); docker run --rm --network none "$1" >/dev/null; echo $(( ($(date +%s%N) - start) / 1000000 ))
  done | sort -n | sed -n 3p
}
go_plain=$(run_ms nabla-bench/go-cpu-plain)
go_nabla=$(run_ms nabla-bench/go-cpu)

printf '\n| getpid() ns/call (best of 5 rounds) | ns | vs native |\n|---|---|---|\n'
printf '| native system call (plain static musl) | %s | 1.00× |\n' "$native"
printf '| relinked: a call into the libOS | %s | %s |\n' "$relinked" "$(ratio "$relinked" "$native")"
printf '| trapped: SIGSYS into the libOS | %s | %s |\n' "$trapped" "$(ratio "$trapped" "$native")"
printf '\n| Go sha256 loop (bench/go/cpu), docker run --rm, median of 5 | ms | vs runc |\n|---|---|---|\n'
printf '| plain image under runc | %s | 1.00× |\n' "$go_plain"
printf '| nabla image (tender + libOS, trap path) | %s | %s |\n' "$go_nabla" "$(ratio "$go_nabla" "$go_plain")"
