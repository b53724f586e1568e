import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseOutputSpec } from '../../src/config/output-spec.js';
import { parseReference } from '../../src/config/reference.js';
import { resolveBuildConfig, type BuildFlags } from '../../src/config/resolve.js';
import { formatReference } from '../../src/image/reference.js';
import type { NablaError } from '../../src/util/errors.js';
import { ConfigError, DetectError, EnvironmentError, OutputError } from '../../src/util/errors.js';
import { tempDir, writeFiles } from '../helpers/cli.js';
import { testToolchains } from '../helpers/toolchains.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function app(files: Record<string, string>): string {
  const dir = tempDir();
  dirs.push(dir);
  return writeFiles(dir, files);
}

const toolchainsDir = tempDir();
afterAll(() => fs.rmSync(toolchainsDir, { recursive: true, force: true }));
const toolchains = testToolchains(toolchainsDir, { go: ['GOPROXY', 'GOPRIVATE'] });

function resolve(dir: string, flags: BuildFlags = {}, env: NodeJS.ProcessEnv = {}) {
  return resolveBuildConfig(dir, flags, { cwd: dir, env, toolchains });
}

describe('language and entry detection', () => {
  it.each([
    [{ 'go.mod': 'module example.com/team/server/v2\n', 'main.go': '' }, 'go', 'server'],
    [{ 'go.mod': 'module example.com/tools\n', 'cmd/lint/main.go': '' }, 'go', './cmd/lint'],
    [{ 'go.mod': 'module example.com/tools\n', 'cmd/a/main.go': '', 'cmd/b/main.go': '' }, 'go', 'tools'],
    [{ 'main.go': '', 'util.go': '' }, 'go', '*dir*'],
    [{ 'main.go': '', 'gen.py': '' }, 'go', '*dir*'],
    [{ 'package.json': '{"main":"src/server.js"}' }, 'node', 'src/server.js'],
    [{ 'package.json': '{}', 'index.js': '' }, 'node', 'index.js'],
    [{ 'package.json': '{"scripts":{"start":"node bin/www.js"}}', 'index.js': '' }, 'node', 'bin/www.js'],
    [{ 'package.json': '{"scripts":{"start":"nodemon app.js"}}', 'server.js': '' }, 'node', 'server.js'],
    [{ 'package.json': '{"scripts":{"start":"node --inspect app.js"}}', 'index.js': '' }, 'node', 'index.js'],
    [{ 'pyproject.toml': '', 'app.py': '' }, 'python', 'app.py'],
    [{ 'requirements.txt': '', 'main.py': '', 'util.py': '' }, 'python', 'main.py'],
    [{ 'tool.py': '' }, 'python', 'tool.py'],
    [{ 'hello.c': '' }, 'c', 'hello'],
    [{ 'my tool.c': '' }, 'c', 'my-tool'],
    [{ '.c': '' }, 'c', 'app'], // found by test/fuzz/ts/detect: the entry was ""
    [{ 'a.c': '', 'b.c': '' }, 'c', '*dir*'],
  ])('%j → %s', (files, language, entry) => {
    const dir = app(files);
    const config = resolve(dir);
    expect(config.language).toBe(language);
    expect(config.entry).toBe(entry === '*dir*' ? path.basename(dir) : entry);
    expect(config.toolchain).toBe(language);
  });

  it('a Makefile without an entry is an error naming the field', () => {
    const dir = app({ Makefile: 'all:\n' });
    expect(() => resolve(dir)).toThrow(DetectError);
    expect(() => resolve(dir)).toThrow(/no entry found/);
  });

  it('nabla.json beats detection and flags beat nabla.json', () => {
    const dir = app({ 'hello.c': '', 'nabla.json': '{"entry":"from-json"}' });
    expect(resolve(dir).entry).toBe('from-json');
    expect(resolve(dir, { entry: 'from-flag' }).entry).toBe('from-flag');
  });

  it('an unknown language says which markers it looked for', () => {
    const dir = app({ 'README.md': '' });
    expect(() => resolve(dir)).toThrow(/cannot tell which language/);
  });
});

describe('nabla.json', () => {
  it('reads every field into a frozen config', () => {
    const dir = app({
      'hello.c': '',
      'nabla.json': JSON.stringify({
        entry: 'hello',
        args: ['--x'],
        env: { MODE: 'prod' },
        workdir: '/srv',
        ports: [8080, '53/udp'],
        memory: '1G',
        files: { exclude: ['*.md'] },
      }),
    });
    const config = resolve(dir, {}, { SOURCE_DATE_EPOCH: '1700000000' });
    expect(config).toMatchObject({
      args: ['--x'],
      env: { MODE: 'prod' },
      workdir: '/srv',
      ports: ['8080/tcp', '53/udp'],
      network: 'container',
      memoryMiB: 1024,
      sourceDateEpoch: 1700000000,
      executor: 'docker',
      cache: true,
    });
    expect(resolve(dir, { cache: false }).cache).toBe(false); // --no-cache
    expect(config.files.exclude).toContain('*.md');
    expect(config.files.exclude).not.toContain('wheels/**');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('a Python app ships neither its vendored wheels/ nor a virtualenv', () => {
    const config = resolve(app({ 'main.py': '', 'requirements.txt': 'flask\n' }));
    expect(config.files.exclude).toEqual(expect.arrayContaining(['wheels/**', '.venv/**', '**/__pycache__/**']));
  });

  it('suggests the field meant by a typo', () => {
    const dir = app({ 'hello.c': '', 'nabla.json': '{"entyr":"x"}' });
    const error = catchError(() => resolve(dir));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('unknown field "entyr"');
    expect(error.hint).toContain('did you mean "entry"');
    expect(error.file).toBe(path.join(dir, 'nabla.json'));
  });

  it.each([
    ['{"ports":[70000]}', 'ports.0'],
    ['{"memory":"lots"}', 'memory'],
    ['{"workdir":"app"}', 'workdir'],
    ['{"env":{"1BAD":"x"}}', 'env.1BAD'],
    ['{"files":{"inclde":["**"]}}', 'files.inclde'],
    // Found by test/fuzz/ts/config: values the tender or Docker would refuse only at run time.
    ['{"ports":["0"]}', 'ports.0'],
    ['{"ports":["99999/udp"]}', 'ports.0'],
    ['{"memory":"0"}', 'memory'],
    ['{"memory":"100G"}', 'memory'],
    ['{"memory":1e300}', 'memory'],
    ['{"entry":"a\\nb"}', 'entry'],
    ['{"args":["a\\u0000b"]}', 'args.0'],
    ['{"env":{"A":"\\u0000"}}', 'env.A'],
  ])('%s names field %s', (json, field) => {
    const dir = app({ 'hello.c': '', 'nabla.json': json });
    expect(catchError(() => resolve(dir)).field).toBe(field);
  });

  it('rejects invalid JSON with the parser position', () => {
    const dir = app({ 'hello.c': '', 'nabla.json': '{"entry": }' });
    expect(() => resolve(dir)).toThrow(/not valid JSON/);
  });

  it('without SOURCE_DATE_EPOCH every timestamp is 1980-01-01, the first date a zip can hold', () => {
    expect(resolve(app({ 'hello.c': '' })).sourceDateEpoch).toBe(315532800);
    expect(resolve(app({ 'hello.c': '' }), {}, { SOURCE_DATE_EPOCH: '' }).sourceDateEpoch).toBe(315532800);
    expect(resolve(app({ 'hello.c': '' }), {}, { SOURCE_DATE_EPOCH: '0' }).sourceDateEpoch).toBe(0);
  });

  it('"zoneinfo": time zones by default, none with false, and a clear message for anything else', () => {
    expect(resolve(app({ 'hello.c': '' })).zoneinfo).toBe(true);
    expect(resolve(app({ 'hello.c': '', 'nabla.json': '{"zoneinfo":false}' })).zoneinfo).toBe(false);
    expect(resolve(app({ 'hello.c': '', 'nabla.json': '{"zoneinfo":true}' })).zoneinfo).toBe(true);
    const error = catchError(() => resolve(app({ 'hello.c': '', 'nabla.json': '{"zoneinfo":"no"}' })));
    expect(error.message).toContain('field "zoneinfo": must be true or false');
    expect(error.hint).toContain('false (none: the app knows only UTC');
    expect(catchError(() => resolve(app({ 'hello.c': '', 'nabla.json': '{"zoneinfos":false}' }))).hint).toBe('did you mean "zoneinfo"?');
  });

  it('"node" reaches the node toolchain as NABLA_NODE; its fields are checked, and only Node apps may have it', () => {
    const node = (json: object) => app({ 'package.json': '{}', 'index.js': '', 'nabla.json': JSON.stringify(json) });
    expect(resolve(node({})).languageOptions).toEqual({});
    const config = resolve(node({ node: { version: 22, options: ['--jitless'] } }));
    expect(config.languageOptions).toEqual({ NABLA_NODE: '{"version":22,"options":["--jitless"]}' });
    expect(catchError(() => resolve(node({ node: { version: '22' } }))).message).toContain('field "node.version": must be a Node.js major version as a number, e.g. 22');
    expect(catchError(() => resolve(node({ node: { options: ['jitless'] } }))).message).toContain('field "node.options.0": each must be a node option');
    expect(catchError(() => resolve(node({ node: { verison: 22 } }))).hint).toBe('did you mean "node.version"?');
    const notNode = catchError(() => resolve(app({ 'hello.c': '', 'nabla.json': '{"node":{"version":22}}' })));
    expect(notNode.message).toContain('field "node" is for Node apps, and this app is c');
    expect(notNode.hint).toContain('"language": "node"');
  });

  it('"heap" reaches the toolchain as NABLA_HEAP; a Go or Node app cannot have a flat one', () => {
    expect(resolve(app({ 'hello.c': '' })).languageOptions).toEqual({});
    expect(resolve(app({ 'hello.c': '', 'nabla.json': '{"heap":"paged"}' })).languageOptions).toEqual({ NABLA_HEAP: 'paged' });
    expect(resolve(app({ 'main.py': '', 'nabla.json': '{"heap":"flat"}' })).languageOptions).toEqual({ NABLA_HEAP: 'flat' });
    expect(catchError(() => resolve(app({ 'hello.c': '', 'nabla.json': '{"heap":"big"}' }))).message).toContain('field "heap"');
    const go = catchError(() => resolve(app({ 'go.mod': 'module x\n', 'main.go': '', 'nabla.json': '{"heap":"flat"}' })));
    expect(go.message).toContain('field "heap": a Go app reserves more address space than its memory');
    expect(go.hint).toContain('remove "heap"');
    const node = resolve(app({ 'package.json': '{}', 'index.js': '', 'nabla.json': '{"heap":"paged","node":{"version":22}}' }));
    expect(node.languageOptions).toEqual({ NABLA_NODE: '{"version":22}', NABLA_HEAP: 'paged' });
  });

  it('rejects a SOURCE_DATE_EPOCH that is not a number', () => {
    const dir = app({ 'hello.c': '' });
    expect(() => resolve(dir, {}, { SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(/SOURCE_DATE_EPOCH/);
  });

});

describe('checks of a build\'s flags, before any work', () => {
  it('needs a tag for --load and --push', () => {
    const dir = app({ 'hello.c': '' });
    expect(() => resolve(dir, { load: true })).toThrow(/--load needs a name/);
    const error = catchError(() => resolve(dir, { push: true }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('--push needs a name for the image');
    expect(error.hint).toContain('-t 127.0.0.1:5000/hello:1.0');
  });

  it('--push needs a registry in every tag (exit 5, as when the push found it)', () => {
    const dir = app({ 'hello.c': '' });
    const error = catchError(() => resolve(dir, { push: true, tag: ['127.0.0.1:5000/team/hello:1', 'hello:1'] }));
    expect(error).toBeInstanceOf(OutputError);
    expect(error.message).toBe('--push needs a registry in the image name, and "hello:1" has none');
    expect(error.field).toBe('--tag');
    expect(error.hint).toContain('-t 127.0.0.1:5000/hello:1');
    // Without --push a name needs no registry.
    expect(resolve(dir, { load: true, tag: ['hello:1'] }).outputs).toEqual([{ type: 'load' }]);
  });

  it('--push becomes one output naming every registry reference', () => {
    const dir = app({ 'hello.c': '' });
    const config = resolve(dir, { push: true, tag: ['127.0.0.1:5000/team/hello:1', 'localhost/x'] });
    expect(config.outputs).toEqual([
      {
        type: 'push',
        targets: [
          { registry: '127.0.0.1:5000', repository: 'team/hello', tag: '1' },
          { registry: 'localhost', repository: 'x', tag: 'latest' },
        ],
      },
    ]);
  });

  it('the toolchain must exist and build the language', () => {
    const dir = app({ 'hello.c': '', 'nabla.json': '{"toolchain":"gp"}' });
    const unknown = catchError(() => resolve(dir));
    expect(unknown).toBeInstanceOf(ConfigError);
    expect(unknown.message).toBe('unknown toolchain "gp"');
    expect(unknown.hint).toContain('did you mean "go"?');

    const wrong = catchError(() => resolve(dir, { toolchain: 'go' }));
    expect(wrong).toBeInstanceOf(ConfigError);
    expect(wrong.message).toBe('toolchain "go" does not build c apps');
    expect(wrong.file).toBe(path.join(dir, 'nabla.json'));
    expect(wrong.hint).toBe('remove "toolchain" to use the default for c, or pick one of: c');
  });

  it('--executor local runs only inside the app\'s toolchain image; auto picks it there', () => {
    const dir = app({ 'hello.c': '' });
    const outside = catchError(() => resolve(dir, { executor: 'local' }));
    expect(outside).toBeInstanceOf(EnvironmentError);
    expect(outside.message).toMatch(/must run inside a nabla toolchain image/);
    expect(outside.hint).toContain('FROM nabla/builder-c');
    expect(() => resolve(dir, { executor: 'local' }, { NABLA_TOOLCHAIN: 'go' })).toThrow(
      '--executor local runs in the "go" toolchain image, but this app needs "c"',
    );
    expect(resolve(dir, {}, { NABLA_TOOLCHAIN: 'c' }).executor).toBe('local');
    expect(resolve(dir).executor).toBe('docker');
    expect(() => resolve(dir, { executor: 'podman' })).toThrow(/unknown executor "podman"/);
  });

  it('hands compiles only the variables the toolchain passes on', () => {
    const dir = app({ 'main.go': '' });
    expect(resolve(dir, {}, { GOPROXY: 'http://proxy', HOME: '/root', GOPRIVATE: '' }).compileEnv).toEqual({ GOPROXY: 'http://proxy' });
  });
});

describe('--output', () => {
  it.each([
    ['type=oci,dest=out', { type: 'oci', dest: '/w/out', format: 'layout' }],
    ['type=oci,dest=img.tar', { type: 'oci', dest: '/w/img.tar', format: 'tar' }],
    ['type=docker,dest=/tmp/d.tar', { type: 'docker', dest: '/tmp/d.tar' }],
    ['type=dir,dest=root', { type: 'dir', dest: '/w/root' }],
  ])('%s', (spec, expected) => {
    expect(parseOutputSpec(spec, '/w')).toEqual(expected);
  });

  it.each(['type=zip,dest=x', 'type=oci', 'dest=x', 'type=oci,dest=x,compression=zstd', 'oci', 'type=load'])(
    'rejects %s',
    (spec) => {
      expect(() => parseOutputSpec(spec, '/w')).toThrow(ConfigError);
    },
  );
});

describe('image references', () => {
  it.each([
    ['hello', undefined, 'hello', 'latest', 'hello:latest'],
    ['hello-c:1.0', undefined, 'hello-c', '1.0', 'hello-c:1.0'],
    ['team/app:v_2', undefined, 'team/app', 'v_2', 'team/app:v_2'],
    ['127.0.0.1:5000/team/app:1', '127.0.0.1:5000', 'team/app', '1', '127.0.0.1:5000/team/app:1'],
    ['localhost/app', 'localhost', 'app', 'latest', 'localhost/app:latest'],
  ])('%s', (text, registry, repository, tag, formatted) => {
    const ref = parseReference(text);
    expect(ref).toEqual({ registry, repository, tag });
    expect(formatReference(ref)).toBe(formatted);
  });

  it.each(['Hello', 'app:', 'app:-x', 'a//b', 'app@sha256:00', '', 'x:' + 'a'.repeat(129)])('rejects %j', (text) => {
    expect(() => parseReference(text)).toThrow(ConfigError);
  });
});

function catchError(fn: () => unknown): NablaError {
  try {
    fn();
  } catch (error) {
    return error as NablaError;
  }
  throw new Error('expected an error');
}
