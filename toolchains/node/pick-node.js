#!/usr/bin/env node
// pick-node.js PACKAGE_JSON MAJOR...: prints the Node.js major to build with, of the
// toolchain's (given newest first): nabla.json's "node.version" ($NABLA_NODE) when set,
// else the newest whose release satisfies the app's "engines.node" (any, without one).
// Exit 1 with a message naming the file and the field when none fits, the two disagree or
// package.json is not JSON. Runs on Debian's nodejs, with Debian's semver (npm's own).
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
if (range !== undefined && (typeof range !== 'string' || !semver.validRange(range))) {
  fail(`package.json "engines.node" is not a version range: ${JSON.stringify(range)}`);
}
const versions = majors.map((m) => [m, fs.readFileSync(`/opt/nabla/node/${m}/version`, 'utf8').trim()]);
const have = versions.map(([, v]) => v).join(' and ');

const wanted = JSON.parse(process.env.NABLA_NODE || '{}').version;
if (wanted !== undefined) {
  const hit = versions.find(([m]) => m === String(wanted));
  if (!hit) fail(`nabla.json "node.version" is ${wanted}; this toolchain has Node.js ${have}: use ${majors.join(' or ')}`);
  if (range !== undefined && !semver.satisfies(hit[1], range)) {
    fail(`nabla.json "node.version" ${wanted} (Node.js ${hit[1]}) does not satisfy package.json "engines.node" ${range}: change one of them`);
  }
  process.stdout.write(`${hit[0]}\n`);
  process.exit(0);
}
if (range === undefined) {
  process.stdout.write(`${versions[0][0]}\n`);
  process.exit(0);
}
const hit = versions.find(([, v]) => semver.satisfies(v, range));
if (!hit) {
  fail(`package.json "engines.node" asks for ${range}; this toolchain has Node.js ${have}: ` +
    `change the range (e.g. ">=22") or build with a toolchain that has that version`);
}
process.stdout.write(`${hit[0]}\n`);
