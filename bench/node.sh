#!/usr/bin/env bash
# Benchmark (not a test): Node.js as a nabla unikernel (the official node binary, unchanged;
# its reads, writes and waits made as fast calls into the libOS through the image's glibc shim, every
# other system call trapped to it) vs the very same node binary under runc, side by side in
# one run, interleaved:
#   - start: docker run --rm of examples/hello-node, to its first line and to its exit
#     (median of 5)
#   - examples/express-node: wrk -t2 -c32 -d5s from the c toolchain image on the host's
#     network, requests/s and p99 (median of 3 rounds, after a warm-up round), with V8's
#     JIT and with --jitless; the server's CPU time per request over those rounds
#   - RSS of each server after the load (VmRSS of the container's PID 1: the tender, or node)
#   - image size
#   - system calls per request: strace -f attached to each server (from the c toolchain
#     image, in the server's PID namespace) during one wrk round; on the nabla side strace
#     shows each trapped call followed by its SIGSYS (served by the libOS, never run by the
#     host), so the calls node makes and the host calls the tender and libOS make are told
#     apart. Fast calls reach no kernel: strace sees none of them.
# The runc image: Debian's base (nabla/debian:bookworm, the base of the toolchain images)
# with the files copied out of the nabla image: /nabla/node, glibc's loader, the shared
# libraries of its rootfs.tar (over Debian's copies of them) and /app with the
# node_modules `npm ci` installed. So both sides run the same node, glibc, app and
# dependencies, byte for byte; only the way they meet the kernel differs. A Debian base
# (rather than FROM scratch) is how node is commonly shipped (the node:*-slim images), which
# keeps the image-size row a fair one.
# Usage: bench/node.sh   (needs a Docker engine, the base image and `npm run build` done;
# the node toolchain is built on first use)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
cli=./bin/nabla-build.js
net=nabla-bench-node subnet=10.96.0.0/24
servers=(nabla plain nabla-jitless plain-jitless)
declare -A ip=([nabla]=10.96.0.10 [plain]=10.96.0.11 [nabla-jitless]=10.96.0.12 [plain-jitless]=10.96.0.13)
tools=$($cli -q toolchain build c)
work=$(mktemp -d)
remove_containers() {
  local server
  for server in "${servers[@]}" trace files; do docker rm -f "nabla-bench-node-$server" >/dev/null 2>&1 || true; done
  docker network rm "$net" >/dev/null 2>&1 || true
}
remove_containers # left over from an interrupted run
trap 'remove_containers; docker rmi -f nabla-bench/node-hello nabla-bench/node-express nabla-bench/node-plain >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# The nabla images.
$cli -q build examples/hello-node --load -t nabla-bench/node-hello >/dev/null
$cli -q build examples/express-node --load -t nabla-bench/node-express >/dev/null

# The runc image, from the nabla image's own files: node, the loader, the libraries, /app.
mkdir -p "$work/plain/hello"
docker create --name nabla-bench-node-files nabla-bench/node-express >/dev/null
docker cp -q nabla-bench-node-files:/nabla/node "$work/plain/node"
docker cp -q nabla-bench-node-files:/nabla/ld-linux-x86-64.so.2 "$work/plain/ld-linux-x86-64.so.2"
docker cp -q nabla-bench-node-files:/nabla/rootfs.tar "$work/rootfs.tar"
docker rm nabla-bench-node-files >/dev/null
tar -xf "$work/rootfs.tar" -C "$work/plain" app lib
cp examples/hello-node/index.js "$work/plain/hello/"
# Debian's /lib is a link to /usr/lib: the libraries go there, over Debian's own copies.
printf '%s\n' 'FROM nabla/debian:bookworm' 'COPY node /usr/local/bin/node' \
  'COPY ld-linux-x86-64.so.2 lib/x86_64-linux-gnu/ /usr/lib/x86_64-linux-gnu/' \
  'COPY app /app' 'COPY hello /hello' 'WORKDIR /app' 'ENTRYPOINT ["node"]' > "$work/plain/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t nabla-bench/node-plain "$work/plain" >/dev/null

# Start: to the first line of output, and to the end of docker run --rm.
start_ms() { # prints "first_line_ms exit_ms" of one docker run --rm
  local start first
  start=$(date +%s%N)
  first=$(docker run --rm --network none "$@" | { read -r _; date +%s%N; cat >/dev/null; })
  echo $(( (first - start) / 1000000 )) $(( ($(date +%s%N) - start) / 1000000 ))
}
for _ in 1 2 3 4 5; do
  start_ms nabla-bench/node-plain /hello/index.js >> "$work/start-plain"
  start_ms nabla-bench/node-hello >> "$work/start-nabla"
done

# The servers: the nabla image as built, the runc image, and both with --jitless (on the
# nabla side the image's entrypoint with --jitless before the script).
mapfile -t entry < <(docker image inspect -f '{{join .Config.Entrypoint "\n"}}' nabla-bench/node-express)
[[ ${entry[-1]} == /app/app.js ]] || { echo "bench/node.sh: the image's entrypoint does not end with /app/app.js: ${entry[*]}" >&2; exit 1; }
docker network create --subnet "$subnet" "$net" >/dev/null
serve() { # NAME DOCKER-RUN-ARGS...
  local name=$1; shift
  docker run -d --name "nabla-bench-node-$name" --network "$net" --ip "${ip[$name]}" "$@" >/dev/null
}
nabla_net=(--cap-add NET_ADMIN --device /dev/net/tun)
serve nabla "${nabla_net[@]}" nabla-bench/node-express
serve nabla-jitless "${nabla_net[@]}" --entrypoint "${entry[0]}" nabla-bench/node-express \
  "${entry[@]:1:${#entry[@]}-2}" --jitless "${entry[-1]}"
serve plain nabla-bench/node-plain /app/app.js
serve plain-jitless nabla-bench/node-plain --jitless /app/app.js
for server in "${servers[@]}"; do
  for _ in $(seq 300); do curl -sf "http://${ip[$server]}:8080/" >/dev/null && break; sleep 0.1; done
  curl -sf "http://${ip[$server]}:8080/" >/dev/null || { echo "bench/node.sh: the $server server did not answer" >&2; exit 1; }
done

# The server's CPU time is read from the host's /proc (the container's PID 1 and its
# threads: the tender, or node): CPU time per request holds up better than requests/s on a
# machine shared with other work.
declare -A pid
for server in "${servers[@]}"; do pid[$server]=$(docker inspect -f '{{.State.Pid}}' "nabla-bench-node-$server"); done
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${pid[$1]}/stat"; } # user + system, all threads
wrk_round() { # SECONDS NAME: prints "requests/s p99_ms requests cpu_ticks" of one round
  local before out
  before=$(cpu_ticks "$2")
  out=$(docker run --rm --network host "$tools" wrk -t2 -c32 -d"$1"s --latency "http://${ip[$2]}:8080/")
  if grep -q 'Non-2xx' <<< "$out"; then echo "bench/node.sh: the $2 server answered with errors: $out" >&2; exit 1; fi
  awk -v ticks=$(( $(cpu_ticks "$2") - before )) '/Requests\/sec/ { rps = $2 } / requests in / { n = $1 }
       $1 == "99%" { v = $2; p99 = v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }
       END { printf "%.0f %.2f %d %d\n", rps, p99, n, ticks }' <<< "$out"
}
for server in "${servers[@]}"; do wrk_round 2 "$server" >/dev/null; done # warm-up (JIT, caches)
for round in 1 2 3; do
  for server in "${servers[@]}"; do
    wrk_round 5 "$server" | tee -a "$work/load-$server" | sed "s/^/round $round, $server: requests\/s p99_ms requests cpu_ticks: /" >&2
  done
done
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/${pid[$1]}/status"; }
rss_nabla=$(rss_mib nabla) rss_plain=$(rss_mib plain)
rss_nabla_jitless=$(rss_mib nabla-jitless) rss_plain_jitless=$(rss_mib plain-jitless)

# System calls per request, under strace (which slows both sides: counts only).
trace_round() { # NAME: writes $work/trace-NAME and $work/requests-NAME
  docker run -d --name nabla-bench-node-trace --pid "container:nabla-bench-node-$1" --cap-add SYS_PTRACE \
    -v "$work:/out" "$tools" strace -f -qq -o "/out/trace-$1" -p 1 >/dev/null
  sleep 2 # attached
  wrk_round 3 "$1" | awk '{ print $3 }' > "$work/requests-$1"
  docker kill -s INT nabla-bench-node-trace >/dev/null
  docker wait nabla-bench-node-trace >/dev/null
  docker rm nabla-bench-node-trace >/dev/null
}
trace_round plain
trace_round nabla
# Per request: "trapped" counts the calls node made that the filter trapped (a syscall line
# followed by SIGSYS/SYS_SECCOMP from the same thread), "host" the calls the host ran.
count_calls() { # TRACE REQUESTS: prints "kind name per_request" lines, kind trapped or host
  awk -v requests="$2" '
    { pid = $1; rest = $0; sub(/^[0-9]+ +/, "", rest) }
    rest ~ /^--- SIGSYS .*SYS_SECCOMP/ {
      match(rest, /si_syscall=__NR_[a-z0-9_]+/); name = substr(rest, RSTART + 16, RLENGTH - 16)
      trapped[name]++; if (last[pid] == name) { host[name]--; last[pid] = "" }; next
    }
    rest ~ /^[a-z_0-9]+\(/ { name = rest; sub(/\(.*/, "", name); host[name]++; last[pid] = name }
    END {
      for (name in trapped) printf "trapped %s %.2f\n", name, trapped[name] / requests
      for (name in host) if (host[name] > 0) printf "host %s %.2f\n", name, host[name] / requests
    }' "$1" | sort -k1,1 -k3,3nr
}
count_calls "$work/trace-plain" "$(cat "$work/requests-plain")" > "$work/calls-plain"
count_calls "$work/trace-nabla" "$(cat "$work/requests-nabla")" > "$work/calls-nabla"

total() { awk -v kind="$2" '$1 == kind { n += $3 } END { printf "%.1f", n }' "$1"; }
most_frequent() { awk -v kind="$2" '$1 == kind' "$1" | head -"$3" | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $3 }'; }
read -r first_plain _ < <(median "$work/start-plain" 1)
read -r first_nabla _ < <(median "$work/start-nabla" 1)
read -r _ exit_plain < <(median "$work/start-plain" 2)
read -r _ exit_nabla < <(median "$work/start-nabla" 2)
row_load() { # LABEL NAME-PLAIN NAME-NABLA
  local rp pp rn pn
  read -r rp pp _ < <(median "$work/load-$2")
  read -r rn pn _ < <(median "$work/load-$3")
  printf '| %s, requests/s | %s | %s | %s |\n' "$1" "$rp" "$rn" "$(ratio "$rn" "$rp")"
  printf '| %s, p99 ms | %s | %s | %s |\n' "$1" "$pp" "$pn" "$(ratio "$pn" "$pp")"
}
version=$(docker run --rm --network none nabla-bench/node-plain --version)
printf '\n| Node.js %s, the same binary | runc | nabla (tender + libOS, trap path) | nabla / runc |\n|---|---|---|---|\n' "$version"
printf '| docker run --rm of examples/hello-node, ms to its first line (median of 5) | %s | %s | %s |\n' \
  "$first_plain" "$first_nabla" "$(ratio "$first_nabla" "$first_plain")"
printf '| the same, ms to its exit | %s | %s | %s |\n' "$exit_plain" "$exit_nabla" "$(ratio "$exit_nabla" "$exit_plain")"
row_load 'examples/express-node, wrk -t2 -c32 -d5s (median of 3)' plain nabla
row_load 'the same with --jitless' plain-jitless nabla-jitless
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{ ticks += $4; n += $3 } END { printf "%.0f", ticks * 1e6 / hz / n }' "$work/load-$1"; }
printf '| server CPU time (user + system) per request, µs (the 3 rounds) | %s | %s | %s |\n' \
  "$(cpu_us plain)" "$(cpu_us nabla)" "$(ratio "$(cpu_us nabla)" "$(cpu_us plain)")"
printf '| the same with --jitless | %s | %s | %s |\n' \
  "$(cpu_us plain-jitless)" "$(cpu_us nabla-jitless)" "$(ratio "$(cpu_us nabla-jitless)" "$(cpu_us plain-jitless)")"
printf '| RSS of the express server after the load, MiB | %s | %s | %s |\n' "$rss_plain" "$rss_nabla" "$(ratio "$rss_nabla" "$rss_plain")"
printf '| the same with --jitless | %s | %s | %s |\n' "$rss_plain_jitless" "$rss_nabla_jitless" "$(ratio "$rss_nabla_jitless" "$rss_plain_jitless")"
printf '| image size of examples/express-node, MB | %s | %s | %s |\n' \
  "$(size_mb nabla-bench/node-plain)" "$(size_mb nabla-bench/node-express)" \
  "$(ratio "$(size_mb nabla-bench/node-express)" "$(size_mb nabla-bench/node-plain)")"

printf '\n| system calls per request (strace -f, one wrk -c32 round of 3 s) | runc | nabla |\n|---|---|---|\n'
printf '| node'"'"'s calls that reach the kernel (under nabla: trapped, served by the libOS; its fast calls reach none) | %s | %s |\n' \
  "$(total "$work/calls-plain" host)" "$(total "$work/calls-nabla" trapped)"
printf '| host calls (under nabla: the tender'"'"'s and libOS'"'"'s, rt_sigreturn included) | %s | %s |\n' \
  "$(total "$work/calls-plain" host)" "$(total "$work/calls-nabla" host)"
printf '| the most frequent of node'"'"'s calls | %s | %s |\n' "$(most_frequent "$work/calls-plain" host 6)" "$(most_frequent "$work/calls-nabla" trapped 6)"
printf '| the host calls under nabla | | %s |\n' "$(most_frequent "$work/calls-nabla" host 6)"
printf '\n(%s requests traced under runc, %s under nabla.)\n' "$(cat "$work/requests-plain")" "$(cat "$work/requests-nabla")"
