/** Ctrl-C during a compile: exit 130, the build container removed, no output written. */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, tempDir, writeFiles } from '../helpers/cli.js';

const work = tempDir('nabla-e2e-interrupt-');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('interrupt', () => {
  it('SIGINT during the compile removes the container and leaves no output', async () => {
    const app = writeFiles(path.join(work, 'slow'), {
      Makefile: 'slow: slow.c\n\t@echo compiling slowly\n\tsleep 120\n\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^\n',
      'slow.c': 'int main(void) { return 0; }\n',
      'nabla.json': '{ "entry": "slow" }',
    });
    // This build's container, not those of builds other tests run meanwhile.
    const thisBuildsContainers = async () =>
      (await execa('docker', ['ps', '-aq', '--filter', 'label=dev.nabla.build', '--filter', `label=dev.nabla.app=${app}`])).stdout;
    const child = execa(cliPath, ['--progress=plain', 'build', app, '-o', `type=oci,dest=${path.join(work, 'out.tar')}`], {
      reject: false,
      all: true,
    });
    let seen = '';
    let interrupted = false;
    let running = '';
    child.all!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      // One Ctrl-C: a second one means "quit at once", without cleaning up.
      if (!interrupted && seen.includes('compiling slowly')) {
        interrupted = true;
        void thisBuildsContainers().then((ids) => {
          running = ids;
          child.kill('SIGINT');
        });
      }
    });
    const started = Date.now();
    const result = await child;
    expect(result.all).toContain('interrupted, cleaning up');
    expect(result.exitCode).toBe(130);
    expect(Date.now() - started).toBeLessThan(60_000); // not the 120 s the compile would take
    expect(running).toMatch(/^[0-9a-f]{12}$/); // its container, found while it compiled
    expect(await thisBuildsContainers()).toBe('');
    expect(fs.readdirSync(work)).toEqual(['slow']);
  });
});
