#!/usr/bin/env bash
# The README's first command: set up this machine, build examples/hello-c into an image,
# load it into Docker and run it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-host.sh
npm ci --no-audit --no-fund
npm run build
./bin/nabla-build.js toolchain bootstrap           # the Debian base image, once (a few minutes)
./bin/nabla-build.js build examples/hello-c --load -t hello-c
docker run --rm --network none hello-c
