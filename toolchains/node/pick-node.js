#!/usr/bin/env node
// pick-node.js PACKAGE_JSON MAJOR...: prints the newest of the toolchain's Node.js majors
// (given newest first) whose release satisfies the app's "engines.node" (any, without
// one). Exit 1 with a message naming the file and the field when none does or the file
// is not JSON. Runs on Debian's nodejs, with Debian's semver (npm's own).
'use strict';
const fs = require('fs');
const semver = require('semver');
const [file, ...majors] = process.argv.slice(2);
const fail = (message) => {
  process.stderr.write(`nabla-compile: ${message}\n`);
  process.exit(1);
};
let pkg;
try {
  pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (e) {
  fail(`package.json is not valid JSON: ${e.message}`);
}
const range = pkg && pkg.engines && pkg.engines.node;
const versions = majors.map((m) => [m, fs.readFileSync(`/opt/nabla/node/${m}/version`, 'utf8').trim()]);
if (range === undefined) {
  process.stdout.write(`${versions[0][0]}\n`);
  process.exit(0);
}
if (typeof range !== 'string' || !semver.validRange(range)) fail(`package.json "engines.node" is not a version range: ${JSON.stringify(range)}`);
const hit = versions.find(([, v]) => semver.satisfies(v, range));
if (!hit) {
  fail(`package.json "engines.node" asks for ${range}; this toolchain has Node.js ${versions.map(([, v]) => v).join(' and ')}: ` +
    `change the range (e.g. ">=22") or build with a toolchain that has that version`);
}
process.stdout.write(`${hit[0]}\n`);
