#!/usr/bin/env bash
# Benchmark (not a test): the same C HTTP server (examples/http-c) as a nabla image (tender
# + libOS + lwIP on the container's network) and as a plain static binary under runc,
# side by side in one run: wrk -t2 -c32 from the c toolchain image on the host's network,
# requests/s and p99 latency, with keep-alive and with a connection per request
# (Connection: close), three rounds each, interleaved; the median round is shown.
# Usage: bench/http.sh   (needs a Docker engine and `npm run build` done)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
cli=./bin/nabla-build.js
net=nabla-bench-net subnet=10.90.0.0/24 nabla_ip=10.90.0.10 plain_ip=10.90.0.11
image=$($cli -q toolchain build c)
remove_containers() {
  docker rm -f nabla-bench-http nabla-bench-http-plain >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
}
remove_containers # left over from an interrupted run
work=$(mktemp -d)
trap 'remove_containers; docker rmi -f nabla-bench/http nabla-bench/http-plain >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

$cli -q build examples/http-c --load -t nabla-bench/http >/dev/null
docker run --rm --network none -v "$PWD/examples/http-c:/src:ro" -v "$work:/out" "$image" \
  musl-gcc -O2 -static -o /out/http /src/http.c -lpthread
printf 'FROM scratch\nCOPY http /http\nENTRYPOINT ["/http", "8080"]\n' > "$work/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t nabla-bench/http-plain "$work" >/dev/null

docker network create --subnet "$subnet" "$net" >/dev/null
docker run -d --name nabla-bench-http --network "$net" --ip "$nabla_ip" --cap-add NET_ADMIN --device /dev/net/tun \
  nabla-bench/http >/dev/null 2>&1
docker run -d --name nabla-bench-http-plain --network "$net" --ip "$plain_ip" nabla-bench/http-plain >/dev/null 2>&1
for ip in "$nabla_ip" "$plain_ip"; do
  for _ in $(seq 50); do curl -sf "http://$ip:8080/" >/dev/null && break; sleep 0.1; done
done

wrk_round() { # IP [WRK-ARGS...]: prints "requests/s p99_ms" for one 5 s round
  local ip=$1; shift
  docker run --rm --network host "$image" wrk -t2 -c32 -d5s --latency "$@" "http://$ip:8080/" |
    awk '/Requests\/sec/ { rps = $2 } $1 == "99%" { v = $2; ms = v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000; p99 = ms }
         END { printf "%.0f %.2f\n", rps, p99 }'
}
for round in 1 2 3; do
  wrk_round "$plain_ip" >> "$work/plain"
  wrk_round "$nabla_ip" >> "$work/nabla"
  wrk_round "$plain_ip" -H 'Connection: close' >> "$work/plain-close"
  wrk_round "$nabla_ip" -H 'Connection: close' >> "$work/nabla-close"
done
read -r plain_rps plain_p99 < <(median "$work/plain")
read -r nabla_rps nabla_p99 < <(median "$work/nabla")
read -r plain_close_rps plain_close_p99 < <(median "$work/plain-close")
read -r nabla_close_rps nabla_close_p99 < <(median "$work/nabla-close")

printf '\n| examples/http-c, wrk -t2 -c32 -d5s (median of 3) | requests/s | p99 ms | a connection per request: requests/s | p99 ms |\n|---|---|---|---|---|\n'
printf '| plain static binary under runc | %s | %s | %s | %s |\n' "$plain_rps" "$plain_p99" "$plain_close_rps" "$plain_close_p99"
printf '| nabla image (tender + libOS + lwIP) | %s | %s | %s | %s |\n' "$nabla_rps" "$nabla_p99" "$nabla_close_rps" "$nabla_close_p99"
printf '| nabla / runc | %s | %s | %s | %s |\n' "$(ratio "$nabla_rps" "$plain_rps")" "$(ratio "$nabla_p99" "$plain_p99")" \
  "$(ratio "$nabla_close_rps" "$plain_close_rps")" "$(ratio "$nabla_close_p99" "$plain_close_p99")"
