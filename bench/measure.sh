#!/usr/bin/env bash
# Host attack surface (not a test): `nabla-build measure` of two servers, each as a nabla
# image against the same app under runc, five runs each (interleaved; the median run is
# shown, with the range), with 300 sequential GETs:
#   - examples/http-c, against the same source as a plain static musl binary (FROM scratch)
#   - python -m http.server, against Debian's python3 in an image made from the same base
# Prints measure's tables. Usage: bench/measure.sh [REQUESTS]   (as root; needs a Docker
# engine, the base image, the python toolchain, and `npm run build` done)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=./bin/nabla-build.js
requests=${1:-300}
tools=$($cli -q toolchain build c)
work=$(mktemp -d)
images="nabla-bench/measure-http-c nabla-bench/measure-http-c-runc nabla-bench/measure-py nabla-bench/measure-py-runc"
trap 'docker rmi -f $images >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

$cli -q build examples/http-c --load -t nabla-bench/measure-http-c >/dev/null
docker run --rm --network none -v "$PWD/examples/http-c:/src:ro" -v "$work:/out" "$tools" \
  musl-gcc -O2 -static -o /out/http /src/http.c -lpthread
printf 'FROM scratch\nCOPY http /http\nEXPOSE 8080\nENTRYPOINT ["/http", "8080"]\n' > "$work/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t nabla-bench/measure-http-c-runc "$work" >/dev/null

mkdir -p "$work/py" "$work/py-runc"
printf 'hello from http.server\n' | tee "$work/py/index.html" > "$work/py-runc/index.html"
printf '{"language": "python", "entry": "http.server", "args": ["8000", "--bind", "0.0.0.0"], "ports": [8000]}\n' > "$work/py/nabla.json"
$cli -q build "$work/py" --load -t nabla-bench/measure-py >/dev/null
printf 'FROM nabla/debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*\nCOPY index.html /app/\nWORKDIR /app\nEXPOSE 8000\nENTRYPOINT ["python3", "-m", "http.server", "8000"]\n' \
  > "$work/py-runc/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q --network host -t nabla-bench/measure-py-runc "$work/py-runc" >/dev/null

$cli measure nabla-bench/measure-http-c --against nabla-bench/measure-http-c-runc --requests "$requests" --runs 5
echo
$cli measure nabla-bench/measure-py --against nabla-bench/measure-py-runc --requests "$requests" --runs 5
