#!/usr/bin/env bash
# Benchmark (not a test): how long `docker stop` takes, for a Python app that sleeps, as a
# nabla unikernel and as Debian's python3 under runc in an image made from the same base,
# side by side in one run (median of 3, interleaved):
#   - without a SIGTERM handler (the default action);
#   - with one that exits at once (a graceful shutdown).
# Under runc, python3 is the container's PID 1, and Linux ignores a signal PID 1 has no
# handler for, so docker waits its 10 s and kills it; the nabla tender routes the signal.
# Usage: bench/stop.sh   (needs a Docker engine, the base image and `npm run build` done)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
cli=./bin/nabla-build.js
work=$(mktemp -d)
images=(nabla-bench/stop-default nabla-bench/stop-handler nabla-bench/stop-plain)
trap 'docker rm -f nabla-bench-stop >/dev/null 2>&1 || true; docker rmi -f "${images[@]}" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

mkdir -p "$work/default" "$work/handler" "$work/plain"
app='import signal, sys, time
if sys.argv[1:] == ["handler"]:
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(0))
print("ready", flush=True)
while True:
    time.sleep(60)
'
printf '%s' "$app" > "$work/default/main.py"
printf '%s' "$app" > "$work/handler/main.py"
printf '%s' "$app" > "$work/plain/main.py"
printf '{"args": ["handler"]}\n' > "$work/handler/nabla.json"
$cli -q build "$work/default" --load -t nabla-bench/stop-default >/dev/null
$cli -q build "$work/handler" --load -t nabla-bench/stop-handler >/dev/null
printf 'FROM nabla/debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*\nCOPY main.py /app/\nWORKDIR /app\nENTRYPOINT ["python3", "/app/main.py"]\n' \
  > "$work/plain/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q --network host -t nabla-bench/stop-plain "$work/plain" >/dev/null

stop_ms() { # start the image, wait for "ready", time docker stop
  docker run -d --name nabla-bench-stop --network none "$@" >/dev/null
  for _ in $(seq 200); do docker logs nabla-bench-stop 2>&1 | grep -q ready && break; sleep 0.05; done
  local start; start=$(date +%s%N)
  docker stop -t 10 nabla-bench-stop >/dev/null
  echo $(( ($(date +%s%N) - start) / 1000000 ))
  docker rm -f nabla-bench-stop >/dev/null
}
for _ in 1 2 3; do
  stop_ms nabla-bench/stop-plain >> "$work/default-plain"
  stop_ms nabla-bench/stop-default >> "$work/default-nabla"
  stop_ms nabla-bench/stop-plain handler >> "$work/handler-plain"
  stop_ms nabla-bench/stop-handler >> "$work/handler-nabla"
done

dp=$(median "$work/default-plain") dn=$(median "$work/default-nabla")
hp=$(median "$work/handler-plain") hn=$(median "$work/handler-nabla")
printf '\n| docker stop of a sleeping Python app, ms (median of 3) | Debian python3 under runc | nabla (tender + libOS) | nabla / runc |\n|---|---|---|---|\n'
printf '| no SIGTERM handler | %s | %s | %s |\n' "$dp" "$dn" "$(ratio "$dn" "$dp")"
printf '| a SIGTERM handler that exits | %s | %s | %s |\n' "$hp" "$hn" "$(ratio "$hn" "$hp")"
