#!/usr/bin/env bash
# Benchmark (not a test): local rebuild times of the C, Go and Python examples, as a
# developer sees them with `nabla-build build DIR --load` (toolchain images already built):
#   cold       the first build of a fresh copy of the example, with an empty cache
#   no change  the same folder again
#   one line   after a one-line change to the source (a line printed)
# Each compile runs in a fresh toolchain container; what is carried from one build to the
# next is the toolchain image and what nabla-build keeps per image under $XDG_CACHE_HOME
# (the toolchain folders, the go toolchain's build and module caches).
# Usage: bench/rebuild.sh [c|go|python ...]   (default: all three; needs a Docker engine
# and `npm run build` done). NABLA_BENCH_FLAGS: more `build` flags (e.g. --no-cache).
set -euo pipefail
cd "$(dirname "$0")/.."
cli="$PWD/bin/nabla-build.js"
work=$(mktemp -d)
# Its own cache of toolchain folders (time zones, the Python runtime): the first build is cold.
export XDG_CACHE_HOME="$work/cache"
trap 'rm -rf "$work"; docker rmi -f nabla-bench/rebuild-hello-c nabla-bench/rebuild-hello-go nabla-bench/rebuild-deps nabla-bench/rebuild-hello-python >/dev/null 2>&1 || true' EXIT

languages=("${@:-c}")
[[ $# -gt 0 ]] || languages=(c go python)
for language in "${languages[@]}"; do $cli -q toolchain build "$language" >/dev/null; done

seconds() { # DIR IMAGE: the wall time of one build, in seconds
  local start end
  start=$(date +%s.%N)
  # shellcheck disable=SC2086 # NABLA_BENCH_FLAGS: one flag per word
  $cli -q build "$1" --load -t "$2" ${NABLA_BENCH_FLAGS:-} >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l | xargs printf '%.1f'
}

echo "| example | cold, s | no change, s | one-line change, s |"
echo "|---|---|---|---|"
# go, bench/go/deps: an app with dependencies (the golang.org/x modules vendored in Go's own
# source, taken from the toolchain image), which its Go build cache is for.
for pair in c:examples/hello-c:hello.c go:examples/hello-go:main.go go:bench/go/deps:main.go python:examples/hello-python:main.py; do
  IFS=: read -r language source file <<<"$pair"
  [[ " ${languages[*]} " == *" $language "* ]] || continue
  example=$(basename "$source")
  cp -r "$source" "$work/$example"
  if [[ $source == bench/go/deps ]]; then
    docker run --rm --network none "$($cli -q toolchain build go)" sh -c 'cd "$(go env GOROOT)/src" && tar c go.mod vendor' | tar -x -C "$work/$example"
    sed -i 's|^module std$|module deps|' "$work/$example/go.mod"
  fi
  image="nabla-bench/rebuild-$example"
  cold=$(seconds "$work/$example" "$image")
  same=$(seconds "$work/$example" "$image")
  case $language in
    c) sed -i 's|return 0;|puts("one more line"); return 0;|' "$work/$example/$file" ;;
    go) sed -i 's|^}$|\tfmt.Println("one more line")\n}|' "$work/$example/$file" ;;
    python) echo 'print("one more line")' >>"$work/$example/$file" ;;
  esac
  changed=$(seconds "$work/$example" "$image")
  docker run --rm --network none "$image" | grep -q 'one more line' || { echo "the change did not reach the $language image" >&2; exit 1; }
  echo "| $source | $cold | $same | $changed |"
done
