/**
 * A Python app's dependencies, end to end: requirements.txt and pyproject.toml installed by
 * the python toolchain's pip from a package index (a real one, served here on 127.0.0.1 in
 * the simple-repository layout), from a vendored wheels/ folder, or from Debian's python3-*
 * packages; compiled extension modules refused by name. The packages are the fixtures in
 * test/fixtures/python-packages, built into wheels by the same toolchain image's pip.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { LoadedImages, docker, runImage } from '../helpers/docker.js';

const work = tempDir('nabla-e2e-python-deps-');
const wheels = path.join(work, 'wheels');
const images = new LoadedImages();
/** Paths the index served, in order. */
const served: string[] = [];
let index: http.Server;
let indexUrl: string;

/** The fixture packages as wheels, built with the python toolchain image's own pip, offline. */
async function buildWheels(): Promise<void> {
  const toolchain = await nabla(['toolchain', 'build', 'python']);
  expect(toolchain.exitCode, toolchain.stderr).toBe(0);
  fs.mkdirSync(wheels, { mode: 0o777 });
  fs.chmodSync(wheels, 0o777);
  const fixtures = path.join(repoRoot, 'test', 'fixtures', 'python-packages');
  const built = await docker(
    'run', '--rm', '--network', 'none', '-v', `${fixtures}:/src:ro`, '-v', `${wheels}:/out`, toolchain.stdout.trim(),
    'sh', '-c', 'cp -r /src /tmp/src && for p in /tmp/src/*/; do python3 -m pip wheel -q --no-deps --no-build-isolation -w /out "$p" || exit 1; done && chmod 666 /out/*',
  );
  expect(built.exitCode, String(built.stderr)).toBe(0);
  expect(fs.readdirSync(wheels).sort()).toEqual([
    'nablacolor-1.2-py3-none-any.whl', 'nablafast-1.0-py3-none-any.whl',
    'nablagreet-1.0-py3-none-any.whl', 'nablaspeedups-1.0-py3-none-any.whl',
  ]);
}

/** A PEP 503 simple index of those wheels: /simple/<name>/ lists them, /files/ serves them. */
function serveIndex(): Promise<void> {
  index = http.createServer((req, res) => {
    const url = req.url ?? '/';
    served.push(url);
    const project = /^\/simple\/([a-z0-9-]+)\/$/.exec(url)?.[1];
    const file = /^\/files\/([\w.-]+\.whl)$/.exec(url)?.[1];
    if (project) {
      const links = fs.readdirSync(wheels).filter((w) => w.startsWith(`${project.replaceAll('-', '_')}-`));
      if (links.length === 0) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html><body>${links.map((w) => `<a href="/files/${w}">${w}</a>`).join('\n')}</body></html>\n`);
    } else if (file && fs.existsSync(path.join(wheels, file))) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(fs.readFileSync(path.join(wheels, file)));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => index.listen(0, '127.0.0.1', () => {
    indexUrl = `http://127.0.0.1:${(index.address() as AddressInfo).port}/simple/`;
    resolve();
  }));
}

beforeAll(async () => {
  await buildWheels();
  await serveIndex();
}, 900_000);

afterAll(async () => {
  index?.close();
  fs.rmSync(work, { recursive: true, force: true });
  await images.removeAll();
});

/** The vendored wheels named, copied into an app's wheels/ folder. */
function vendor(appDir: string, ...names: string[]): void {
  fs.mkdirSync(path.join(appDir, 'wheels'), { recursive: true });
  for (const wheel of fs.readdirSync(wheels).filter((w) => names.some((n) => w.startsWith(`${n}-`)))) {
    fs.copyFileSync(path.join(wheels, wheel), path.join(appDir, 'wheels', wheel));
  }
}

const greetApp = (files: Record<string, string>) => ({
  'main.py': 'import os, nablagreet\nprint(nablagreet.greet("nabla"))\nprint("wheels shipped:", os.path.exists("/app/wheels"))\n',
  ...files,
});
const GREETING = 'hello <green>nabla</green> from nablagreet 1.0 and nablacolor 1.2';
/** pip's default index made unreachable (a closed port as its proxy) and none named, wherever the test runs. */
const OFFLINE = { env: { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', PIP_INDEX_URL: '', PIP_EXTRA_INDEX_URL: '' } };

describe('python dependencies', () => {
  it('requirements.txt naming an index: pip installs the package and its dependency from it', async () => {
    const app = writeFiles(path.join(work, 'from-index'), greetApp({ 'requirements.txt': `--index-url ${indexUrl}\nnablagreet==1.0\n` }));
    served.length = 0;
    await images.build(app, 'nabla-e2e/deps-index:1');
    expect(served).toEqual(expect.arrayContaining(['/simple/nablagreet/', '/simple/nablacolor/', '/files/nablagreet-1.0-py3-none-any.whl']));
    const result = await runImage('nabla-e2e/deps-index:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([GREETING, 'wheels shipped: False']);
  });

  it('pyproject.toml dependencies with PIP_INDEX_URL in nabla-build\'s environment; a compiled module with a pure fallback is left out', async () => {
    const app = writeFiles(path.join(work, 'pyproject'), {
      'main.py': 'import nablagreet, nablaspeedups\nprint(nablagreet.greet("py"))\nprint(nablaspeedups.IMPLEMENTATION, nablaspeedups.double(21))\n',
      'pyproject.toml': '[project]\nname = "app"\nversion = "0.1"\ndependencies = ["nablagreet>=1", "nablaspeedups"]\n',
    });
    const log = await images.build(app, 'nabla-e2e/deps-pyproject:1', { env: { PIP_INDEX_URL: indexUrl } });
    expect(log).toContain('left out 1 compiled module(s) with pure-Python fallbacks: nablaspeedups/_speedups');
    const result = await runImage('nabla-e2e/deps-pyproject:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(['hello <green>py</green> from nablagreet 1.0 and nablacolor 1.2', 'pure 42']);
  });

  it('a vendored wheels/ folder installs offline, is not shipped, and gives the same bytes twice', async () => {
    const app = writeFiles(path.join(work, 'vendored'), greetApp({ 'requirements.txt': 'nablagreet\n' }));
    vendor(app, 'nablagreet', 'nablacolor');
    await images.build(app, 'nabla-e2e/deps-vendored:1', OFFLINE);
    const result = await runImage('nabla-e2e/deps-vendored:1');
    expect(result.stdout.split('\n')).toEqual([GREETING, 'wheels shipped: False']);

    const digests = [];
    for (const tar of ['a.tar', 'b.tar']) {
      const out = await nabla(['build', app, '--output', `type=oci,dest=${path.join(work, tar)}`, '--json'], OFFLINE);
      expect(out.exitCode, out.stderr).toBe(0);
      digests.push(JSON.parse(out.stdout).digest as string);
    }
    expect(digests[0]).toBe(digests[1]);
  });

  it('a dependency that needs its compiled module fails the build by name, with exit 4', async () => {
    const app = writeFiles(path.join(work, 'compiled'), { 'main.py': 'import nablafast\n', 'requirements.txt': 'nablafast\n' });
    vendor(app, 'nablafast');
    const build = await nabla(['build', app, '--output', `type=oci,dest=${path.join(work, 'compiled.tar')}`], OFFLINE);
    expect(build.exitCode).toBe(4);
    expect(build.stderr).toContain('dependencies need compiled extension modules');
    expect(build.stderr).toContain('nablafast (ModuleNotFoundError');
    expect(build.stderr).toContain('nablafast/_fast.cpython-311-x86_64-linux-gnu.so');
    expect(fs.existsSync(path.join(work, 'compiled.tar'))).toBe(false);
  });

  it('offline, names Debian lacks (or pins to another version) fail with what Debian has and how to vendor', async () => {
    const app = writeFiles(path.join(work, 'missing'), {
      'main.py': 'import numpy\n',
      'requirements.txt': 'numpy>=1.20  # fast arrays\nflask==3.0.0\n',
    });
    const build = await nabla(['build', app], OFFLINE);
    expect(build.exitCode).toBe(4);
    expect(build.stderr).toContain('"numpy" (no Debian python3-* package in this toolchain has it)');
    expect(build.stderr).toContain('"flask==3.0.0" (Debian has 2.2.2)');
    expect(build.stderr).toContain('pip download -r requirements.txt -d wheels');
  });

  it('bad requirement lines name the file and line', async () => {
    const app = writeFiles(path.join(work, 'bad-line'), { 'main.py': '', 'requirements.txt': 'flask\nnot a requirement!\n' });
    const build = await nabla(['build', app], OFFLINE);
    expect(build.exitCode).toBe(4);
    expect(build.stderr).toContain('requirements.txt:2: "not a requirement!" is not a requirement');

    const toml = writeFiles(path.join(work, 'bad-toml'), { 'main.py': '', 'pyproject.toml': '[project]\ndependencies = "flask"\n' });
    const bad = await nabla(['build', toml], OFFLINE);
    expect(bad.exitCode).toBe(4);
    expect(bad.stderr).toContain('pyproject.toml: field "project.dependencies" must be a list of strings');
  });
});

describe('Debian packages offline', () => {
  it('an image built from Debian\'s flask holds precompiled dependencies under /usr/lib/python3/dist-packages', async () => {
    const app = writeFiles(path.join(work, 'debian'), {
      'main.py': 'import flask, markupsafe, os\nprint(flask.__file__, markupsafe.escape("<b>"), os.path.exists(flask.__cached__))\n',
      'requirements.txt': 'Flask>=2.2,<3\n',
    });
    const log = await images.build(app, 'nabla-e2e/deps-debian:1', OFFLINE);
    expect(log).toContain("dependency: Debian's python3-flask 2.2.2");
    expect(log).toContain("dependency: Debian's python3-markupsafe 2.1.2");
    expect(log).toContain('left out 1 compiled module(s) with pure-Python fallbacks: markupsafe/_speedups');
    const result = await runImage('nabla-e2e/deps-debian:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(
      '/usr/lib/python3/dist-packages/flask/__init__.py &lt;b&gt; True',
    );
    const inspect = await execa('docker', ['image', 'inspect', 'nabla-e2e/deps-debian:1', '--format', '{{json .Config.Env}}']);
    expect(JSON.parse(inspect.stdout)).toContain('PYTHONPATH=/app:/usr/lib/python3/dist-packages');
  });
});
