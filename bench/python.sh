#!/usr/bin/env bash
# Benchmark (not a test): CPython as a nabla unikernel vs Debian's python3 under runc in an
# image made from the same Debian base, side by side in one run:
#   - start to first output: docker run --rm of a hello script (median of 5, interleaved)
#   - python -m http.server: wrk -t2 -c8 -d5s from the c toolchain image on the host's
#     network (median of 3 rounds, interleaved)
#   - image size
# Usage: bench/python.sh   (needs a Docker engine, the base image and `npm run build` done)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
cli=./bin/nabla-build.js
net=nabla-bench-py subnet=10.93.0.0/24 nabla_ip=10.93.0.10 plain_ip=10.93.0.11
tools=$($cli -q toolchain build c)
work=$(mktemp -d)
remove_containers() {
  docker rm -f nabla-bench-pyhttp nabla-bench-pyhttp-plain >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
}
remove_containers
trap 'remove_containers; docker rmi -f nabla-bench/py-hello nabla-bench/py-http nabla-bench/py-plain >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# The nabla images: hello, and http.server serving a small file.
mkdir -p "$work/hello" "$work/http"
cp examples/hello-python/main.py "$work/hello/"
printf 'hello from http.server\n' > "$work/http/index.html"
printf '{"language": "python", "entry": "http.server", "args": ["8000", "--bind", "0.0.0.0"], "ports": [8000]}\n' > "$work/http/nabla.json"
$cli -q build "$work/hello" --load -t nabla-bench/py-hello >/dev/null
$cli -q build "$work/http" --load -t nabla-bench/py-http >/dev/null

# The runc image: Debian's python3 on the same base, the same files.
mkdir -p "$work/plain"
cp examples/hello-python/main.py "$work/http/index.html" "$work/plain/"
printf 'FROM nabla/debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*\nCOPY main.py index.html /app/\nWORKDIR /app\nENTRYPOINT ["python3"]\n' \
  > "$work/plain/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q --network host -t nabla-bench/py-plain "$work/plain" >/dev/null

run_ms() { # wall time of one docker run --rm, in ms
  local start; start=$(date +%s%N); docker run --rm --network none "$@" >/dev/null; echo $(( ($(date +%s%N) - start) / 1000000 ))
}
for _ in 1 2 3 4 5; do
  run_ms nabla-bench/py-plain /app/main.py >> "$work/start-plain"
  run_ms nabla-bench/py-hello >> "$work/start-nabla"
done

docker network create --subnet "$subnet" "$net" >/dev/null 2>&1
docker run -d --name nabla-bench-pyhttp --network "$net" --ip "$nabla_ip" --cap-add NET_ADMIN --device /dev/net/tun \
  nabla-bench/py-http >/dev/null 2>&1
docker run -d --name nabla-bench-pyhttp-plain --network "$net" --ip "$plain_ip" nabla-bench/py-plain -m http.server 8000 >/dev/null 2>&1
for ip in "$nabla_ip" "$plain_ip"; do
  for _ in $(seq 100); do curl -sf "http://$ip:8000/" >/dev/null && break; sleep 0.1; done
done
wrk_rps() {
  docker run --rm --network host "$tools" wrk -t2 -c8 -d5s "http://$1:8000/" | awk '/Requests\/sec/ { printf "%.0f\n", $2 }'
}
for _ in 1 2 3; do
  wrk_rps "$plain_ip" >> "$work/rps-plain"
  wrk_rps "$nabla_ip" >> "$work/rps-nabla"
done

sp=$(median "$work/start-plain") sn=$(median "$work/start-nabla")
rp=$(median "$work/rps-plain") rn=$(median "$work/rps-nabla")
zp=$(size_mb nabla-bench/py-plain) zn=$(size_mb nabla-bench/py-http)
printf '\n| CPython 3.11 | Debian python3 under runc | nabla (tender + libOS) | nabla / runc |\n|---|---|---|---|\n'
printf '| docker run --rm of hello, ms (median of 5) | %s | %s | %s |\n' "$sp" "$sn" "$(ratio "$sn" "$sp")"
printf '| python -m http.server, requests/s (wrk -c8, median of 3) | %s | %s | %s |\n' "$rp" "$rn" "$(ratio "$rn" "$rp")"
printf '| image size, MB | %s | %s | %s |\n' "$zp" "$zn" "$(ratio "$zn" "$zp")"
