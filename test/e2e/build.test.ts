/**
 * The main job end to end with a real Docker engine: build C apps into images, run them
 * with `docker run`, check what they print; same source → same digest.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { expectSameBytesFromTwoFolders } from '../helpers/docker.js';

const work = tempDir('nabla-e2e-build-');
const images: string[] = [];
afterAll(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  if (images.length > 0) await execa('docker', ['rmi', '-f', ...images], { reject: false });
});

async function buildAndRun(appDir: string, name: string, extra: string[] = []): Promise<{ digest: string; run: string }> {
  images.push(name);
  const build = await nabla(['build', appDir, '--load', '-t', name, ...extra]);
  expect(build.stderr).not.toMatch(/error/);
  expect(build.exitCode).toBe(0);
  const digest = build.stdout.trim();
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  const run = await execa('docker', ['run', '--rm', '--network', 'none', name], { reject: false });
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
  return { digest, run: run.stdout };
}

describe('build', () => {
  it('examples/hello-c: --load, then docker run prints the greeting', async () => {
    const { run } = await buildAndRun(path.join(repoRoot, 'examples', 'hello-c'), 'nabla-e2e/hello-c:1');
    expect(run).toBe('Hello from a nabla-build image!');
  });

  it('two builds of the same source give the same digest, wherever the source lives', async () => {
    const first = await expectSameBytesFromTwoFolders('hello-c', 'hello.c', work);

    const later = await nabla(['build', first.dir], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
    expect(later.exitCode).toBe(0);
    expect(later.stdout).not.toBe(first.stdout);
  });

  it('nabla.json args, env, workdir and shipped files reach the app', async () => {
    const app = writeFiles(path.join(work, 'configured'), {
      'main.c': [
        '#include <stdio.h>',
        '#include <stdlib.h>',
        '#include <unistd.h>',
        'int main(int argc, char **argv) {',
        '  char cwd[256];',
        '  for (int i = 1; i < argc; i++) printf("arg=%s\\n", argv[i]);',
        '  printf("GREETING=%s\\n", getenv("GREETING"));',
        '  printf("cwd=%s\\n", getcwd(cwd, sizeof cwd));',
        '  FILE *f = fopen("/app/data/message.txt", "r");',
        '  char line[128];',
        '  if (f && fgets(line, sizeof line, f)) printf("file=%s", line);',
        '  return 0;',
        '}',
        '',
      ].join('\n'),
      'data/message.txt': 'shipped with the app\n',
      'notes.md': 'excluded\n',
      'nabla.json': JSON.stringify({
        entry: 'configured',
        args: ['one', 'two words'],
        env: { GREETING: 'hi there' },
        workdir: '/app/data',
        ports: [8080],
        network: 'none', // recorded ports, but run here without a network
        files: { exclude: ['*.md'] },
      }),
    });
    const { run } = await buildAndRun(app, 'nabla-e2e/configured:1');
    expect(run.split('\n')).toEqual([
      'arg=one',
      'arg=two words',
      'GREETING=hi there',
      'cwd=/app/data',
      'file=shipped with the app',
    ]);
    const inspect = await execa('docker', ['image', 'inspect', 'nabla-e2e/configured:1', '--format', '{{json .Config}}']);
    const config = JSON.parse(inspect.stdout) as { ExposedPorts: object; Labels: Record<string, string> };
    expect(Object.keys(config.ExposedPorts)).toEqual(['8080/tcp']);
    expect(config.Labels['dev.nabla.language']).toBe('c');
    expect(config.Labels['dev.nabla.source.digest']).toMatch(/^sha256:/);
    const files = await nabla(['inspect', 'nabla-e2e/configured:1']);
    expect(files.exitCode).toBe(0);
  });

  it('a Makefile that honours CC, CFLAGS and LDFLAGS builds the entry', async () => {
    const app = writeFiles(path.join(work, 'make'), {
      Makefile: 'bin/tool: src/main.c src/util.c\n\tmkdir -p bin\n\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^\n',
      'src/main.c': '#include <stdio.h>\nint twice(int);\nint main(void) { printf("%d\\n", twice(21)); return 0; }\n',
      'src/util.c': 'int twice(int x) { return 2 * x; }\n',
      'nabla.json': '{ "entry": "bin/tool" }',
    });
    const { run } = await buildAndRun(app, 'nabla-e2e/make:1');
    expect(run).toBe('42');
  });

  it('the app exit code is the container exit code', async () => {
    const app = writeFiles(path.join(work, 'exit3'), { 'exit3.c': 'int main(void) { return 3; }\n' });
    images.push('nabla-e2e/exit3:1');
    expect((await nabla(['build', app, '--load', '-t', 'nabla-e2e/exit3:1'])).exitCode).toBe(0);
    const run = await execa('docker', ['run', '--rm', '--network', 'none', 'nabla-e2e/exit3:1'], { reject: false });
    expect(run.exitCode).toBe(3);
  });

  it('threads: 4 pthreads with a mutex and a condition variable, joined', async () => {
    const { run } = await buildAndRun(path.join(repoRoot, 'test', 'fixtures', 'threads-c'), 'nabla-e2e/threads:1');
    expect(run).toBe('counter=4000 joined=60');
  });

  it('files: shipped files, /tmp writes, folders, renames, symlinks, the working directory', async () => {
    const { run } = await buildAndRun(path.join(repoRoot, 'test', 'fixtures', 'files-c'), 'nabla-e2e/files:1');
    expect(run).toBe('files: ok');
  });

  it('--json prints one result object', async () => {
    const result = await nabla(['build', path.join(repoRoot, 'examples', 'hello-c'), '--json', '-q']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ digest: expect.stringMatching(/^sha256:/), language: 'c', entry: 'hello' });
  });
});
