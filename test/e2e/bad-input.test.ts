/**
 * Bad input, table-driven, through the real CLI and a real Docker engine: each case must
 * end with one message naming the file/field and a fix, the documented exit code, and no
 * partial output left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { startRegistry, type Registry } from '../helpers/registry.js';

const HELLO = '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n';

interface Case {
  name: string;
  /** Files of the app folder; undefined for "no folder". */
  app?: Record<string, string>;
  /** CLI args after `build APP`; OUT is replaced by a fresh output folder. */
  args?: string[];
  env?: Record<string, string>;
  /** Extra toolchain folders under a --toolchains-dir (base is copied in too). */
  toolchains?: Record<string, Record<string, string>>;
  exitCode: number;
  stderr: RegExp[];
}

let registry: Registry;
let readOnlyRegistry: Registry;
beforeAll(async () => {
  readOnlyRegistry = await startRegistry({ readOnly: true });
  registry = await startRegistry();
});
afterAll(async () => {
  await readOnlyRegistry?.stop();
  await registry?.stop();
});

const cases: Case[] = [
  {
    name: 'missing folder',
    args: [],
    exitCode: 2,
    stderr: [/app folder .* does not exist/, /fix: +pass the folder that holds your app/],
  },
  {
    name: 'invalid JSON',
    app: { 'hello.c': HELLO, 'nabla.json': '{ "entry": "hello", }' },
    exitCode: 2,
    stderr: [/nabla\.json is not valid JSON/, /file: .*nabla\.json/, /fix: /],
  },
  {
    name: 'unknown (mistyped) field',
    app: { 'hello.c': HELLO, 'nabla.json': '{ "entyr": "hello" }' },
    exitCode: 2,
    stderr: [/unknown field "entyr"/, /field: entyr/, /fix: +did you mean "entry"\?/],
  },
  {
    name: 'field of the wrong type',
    app: { 'hello.c': HELLO, 'nabla.json': '{ "ports": ["http"] }' },
    exitCode: 2,
    stderr: [/field "ports\.0"/, /file: .*nabla\.json/, /fix: +use a list such as/],
  },
  {
    name: 'no entry found',
    app: { Makefile: 'all:\n\ttrue\n' },
    exitCode: 2,
    stderr: [/no entry found/, /field: entry/, /fix: +set "entry" in nabla\.json/],
  },
  {
    name: 'unknown language',
    app: { 'README.md': '# nothing to build\n' },
    exitCode: 2,
    stderr: [/cannot tell which language/, /field: language/, /fix: +add go\.mod/],
  },
  {
    name: 'unknown toolchain',
    app: { 'hello.c': HELLO },
    args: ['--toolchain', 'cc'],
    exitCode: 2,
    stderr: [/unknown toolchain "cc"/, /fix: +did you mean "c"\?/],
  },
  {
    name: 'Docker engine not reachable',
    app: { 'hello.c': HELLO },
    env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    exitCode: 3,
    stderr: [/cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock/, /field: DOCKER_HOST/, /fix: +start Docker/],
  },
  {
    name: '--executor local outside a toolchain image',
    app: { 'hello.c': HELLO },
    args: ['--executor', 'local'],
    exitCode: 3,
    stderr: [/must run inside a nabla toolchain image/, /field: --executor/],
  },
  {
    name: 'toolchain Dockerfile fails',
    app: { 'hello.c': HELLO },
    args: ['--toolchain', 'broken'],
    toolchains: {
      broken: {
        'toolchain.json': JSON.stringify({ description: 'fails', from: 'base', languages: ['c'], network: 'none' }),
        Dockerfile: 'ARG NABLA_FROM\nFROM ${NABLA_FROM}\nRUN echo "about to fail" && exit 7\n',
      },
    },
    exitCode: 4,
    stderr: [/toolchain "broken" failed to build/, /file: .*broken\/Dockerfile/, /\| about to fail/, /full log: /],
  },
  {
    name: 'app compile error',
    app: { 'hello.c': 'int main(void) { return undefined_name; }\n' },
    exitCode: 4,
    stderr: [/the app failed to compile/, /\| .*undefined_name.*undeclared/, /full log: /, /fix: +fix the errors/],
  },
  {
    name: 'unwritable output',
    app: { 'hello.c': HELLO },
    args: ['-o', 'type=oci,dest=/proc/nabla-out.tar'],
    exitCode: 5,
    stderr: [/\/proc/, /field: --output/, /fix: /],
  },
  {
    name: '--sbom to a folder that is not there',
    app: { 'hello.c': HELLO },
    args: ['--sbom', 'OUT/missing/image.cdx.json'],
    exitCode: 5,
    stderr: [/cannot write .*missing\/image\.cdx\.json: folder .*missing does not exist/, /field: --sbom/, /fix: +create it first/],
  },
  {
    name: 'bad --output spec',
    app: { 'hello.c': HELLO },
    args: ['-o', 'type=zip,dest=OUT/image.zip'],
    exitCode: 2,
    stderr: [/type must be oci, docker or dir, not "zip"/, /field: --output/, /fix: +e\.g\. --output type=oci/],
  },
  {
    name: 'bad tag',
    app: { 'hello.c': HELLO },
    args: ['--load', '-t', 'Hello:latest'],
    exitCode: 2,
    stderr: [/invalid image name "Hello:latest"/, /field: --tag/, /fix: +use lowercase/],
  },
  {
    name: 'registry refusing the push',
    app: { 'hello.c': HELLO },
    args: ['--push', '-t', 'READONLY/team/hello:1'],
    exitCode: 5,
    stderr: [/registry 127\.0\.0\.1:\d+ refused the push \(HTTP 405 while starting a blob upload\)/, /field: --push/, /fix: +check that the registry accepts pushes/],
  },
  {
    name: 'push to a registry that is not there',
    app: { 'hello.c': HELLO },
    args: ['--push', '-t', '127.0.0.1:2/team/hello:1'],
    exitCode: 5,
    stderr: [/cannot reach registry 127\.0\.0\.1:2: ECONNREFUSED/, /fix: +is the registry running\?/],
  },
];

describe('bad input', () => {
  it('has at least 12 cases', () => expect(cases.length).toBeGreaterThanOrEqual(12));

  it.each(cases)('$name', async (c) => {
    const work = tempDir('nabla-bad-');
    try {
      const appDir = path.join(work, 'app');
      const outDir = path.join(work, 'out');
      fs.mkdirSync(outDir);
      if (c.app) writeFiles(appDir, c.app);
      const globalArgs: string[] = [];
      if (c.toolchains) {
        const dir = path.join(work, 'toolchains');
        fs.cpSync(path.join(repoRoot, 'toolchains', 'base'), path.join(dir, 'base'), { recursive: true });
        for (const [name, files] of Object.entries(c.toolchains)) writeFiles(path.join(dir, name), files);
        globalArgs.push('--toolchains-dir', dir);
      }
      const args = (c.args ?? []).map((a) =>
        a.replace('OUT', outDir).replace('READONLY', readOnlyRegistry.host).replace('REGISTRY', registry.host),
      );
      // Every case also asks for a file output, so "nothing half written" is checked each time.
      const fileOutput = ['-o', `type=oci,dest=${path.join(outDir, 'image.tar')}`];
      const result = await nabla([...globalArgs, 'build', appDir, ...fileOutput, ...args], {
        env: { ...process.env, ...c.env },
      });
      for (const pattern of c.stderr) expect(result.stderr).toMatch(pattern);
      expect(result.stderr.match(/nabla-build: error:/g)?.length, 'one error message').toBe(1);
      expect(result.stdout).toBe('');
      expect(result.exitCode).toBe(c.exitCode);
      expect(fs.readdirSync(outDir), 'no partial output').toEqual([]);
      expect(fs.existsSync('/proc/nabla-out.tar')).toBe(false);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
