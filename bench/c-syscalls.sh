#!/usr/bin/env bash
# Benchmark (not a test): what relinking costs and saves, measured side by side in one run
# inside the c toolchain container, so both sides share the machine's noise.
#   - getpid: a libOS function call (nabla) vs a real system call (plain static musl)
#   - start to main(): tender + libOS boot vs exec of a plain static binary
#   - docker run of a nabla image vs docker run of the same program as a plain static image
# Usage: bench/c-syscalls.sh   (needs a Docker engine and `npm run build` done)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
cli=./bin/nabla-build.js
runs=${RUNS:-200}

image=$($cli -q toolchain build c)
work=$(mktemp -d)
trap 'rm -rf "$work"; docker rmi -f nabla-bench/main-time nabla-bench/main-time-plain >/dev/null 2>&1 || true' EXIT

read -r getpid_native getpid_nabla start_native start_nabla < <(
  docker run --rm --network none -v "$PWD/bench/c:/bench:ro" "$image" bash -c "
    set -e; cd /tmp
    musl-gcc -O2 -static -o getpid.native /bench/getpid.c
    nabla-cc -O2 -o getpid.nabla /bench/getpid.c
    musl-gcc -O2 -static -o main-time.native /bench/main-time.c
    nabla-cc -O2 -o main-time.nabla /bench/main-time.c
    gcc -O2 -o launch /bench/launch.c
    tar -cf empty.tar --files-from /dev/null
    echo \$(./getpid.native) \$(/opt/nabla/bin/nabla-run --disk=empty.tar ./getpid.nabla) \
         \$(./launch $runs ./main-time.native) \$(./launch $runs /opt/nabla/bin/nabla-run --disk=empty.tar ./main-time.nabla)
  ")

# docker run: the nabla image against the same program as a plain static image.
mkdir -p "$work/app" "$work/plain"
cp bench/c/main-time.c "$work/app/"
$cli -q build "$work/app" --load -t nabla-bench/main-time >/dev/null
docker run --rm --network none -v "$PWD/bench/c:/bench:ro" -v "$work/plain:/out" "$image" \
  musl-gcc -O2 -static -o /out/main-time /bench/main-time.c
printf 'FROM scratch\nCOPY main-time /main-time\nENTRYPOINT ["/main-time"]\n' > "$work/plain/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t nabla-bench/main-time-plain "$work/plain" >/dev/null 2>&1

docker_ms() { # median wall time of `docker run --rm IMAGE` over 15 runs, in ms
  for _ in $(seq 15); do
    start=$(date +%s%N); docker run --rm --network none "$1" >/dev/null; echo $(( ($(date +%s%N) - start) / 1000 ))
  done | sort -n | sed -n 8p | awk '{printf "%.1f", $1 / 1000}'
}
docker_plain=$(docker_ms nabla-bench/main-time-plain)
docker_nabla=$(docker_ms nabla-bench/main-time)

printf '\n| measure | plain static musl | nabla (tender + libOS) | nabla / plain |\n|---|---|---|---|\n'
printf '| getpid() ns/call (best of 5×1M) | %s | %s | %s |\n' "$getpid_native" "$getpid_nabla" "$(ratio "$getpid_nabla" "$getpid_native")"
printf '| start to main() µs (median of %s) | %s | %s | %s |\n' "$runs" "$start_native" "$start_nabla" "$(ratio "$start_nabla" "$start_native")"
printf '| docker run --rm ms (median of 15) | %s | %s | %s |\n' "$docker_plain" "$docker_nabla" "$(ratio "$docker_nabla" "$docker_plain")"
