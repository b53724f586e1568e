#!/usr/bin/env bash
# The README's first command: set up this machine, build examples/hello-c into an image,
# load it into Docker and run it; then a developer's day from an empty folder: init -> build -> run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-host.sh
npm ci --no-audit --no-fund
npm run build
./bin/nabla-build.js toolchain bootstrap           # the Debian base image, once (a few minutes)
./bin/nabla-build.js build examples/hello-c --load -t hello-c
docker run --rm --network none hello-c

app="$(mktemp -d)/my-app"
./bin/nabla-build.js init "$app" --lang c           # source, nabla.json, Dockerfile, CI jobs
./bin/nabla-build.js build "$app" --load -t my-app
./bin/nabla-build.js run my-app                     # the docker run flags it needs, then cleans up
