/**
 * The file-system semantics Go's own tests rely on (issue 20), through the trap path: the
 * fsops-go fixture prints one line per check, and the unikernel must print what the same
 * program prints under plain Linux, run as PID 1 in the go toolchain image the build used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { LoadedImages, runImage } from '../helpers/docker.js';

const images = new LoadedImages();
afterAll(async () => {
  await images.removeAll();
});

const app = path.join(repoRoot, 'test', 'fixtures', 'fsops-go');
const IMAGE = 'nabla-e2e/fsops-go:1';

/** The fixture's lines as Linux prints them: built and run (exec'd, PID 1) in the toolchain image. */
async function underLinux(toolchain: string): Promise<string> {
  const script = 'cp -r /src /app && cd /app && CGO_ENABLED=0 GOCACHE=/tmp/gocache go build -o /tmp/fsops . && exec /tmp/fsops';
  const result = await execa('docker', ['run', '--rm', '--network', 'none', '-v', `${app}:/src:ro`, toolchain, 'sh', '-c', script], {
    reject: false,
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout;
}

describe('file-system semantics, Go through the trap path', () => {
  it('links, chmod/Chtimes, statfs, FIFOs, Glob, Getppid, memfd, RemoveAll and signals print what Linux prints', async () => {
    expect(fs.existsSync(path.join(app, 'data', 'sub', 'deep.txt'))).toBe(true);
    await images.build(app, IMAGE);
    const inspect = await execa('docker', ['image', 'inspect', IMAGE, '--format', '{{index .Config.Labels "dev.nabla.toolchain"}}']);
    const linux = await underLinux(inspect.stdout.trim());
    const nabla = await runImage(IMAGE);
    expect(nabla.stderr).toBe('');
    expect(nabla.exitCode).toBe(0);
    // Line by line, so a difference names its check.
    expect(nabla.stdout.split('\n')).toEqual(linux.split('\n'));
    // And the values themselves, so both cannot be wrong the same way.
    const lines = nabla.stdout.split('\n');
    expect(lines).toContain('getppid: 0');
    expect(lines).toContain('link: ok same=true nlink=2');
    expect(lines).toContain('link after unlink: "one+two" ok nlink=1');
    expect(lines).toContain('link to a folder: operation not permitted');
    expect(lines).toContain('chmod an image file: ok -rwxr-x--x');
    expect(lines).toContain('chtimes: ok mtime=1500000000987654321 atime=1000000000123456789');
    expect(lines).toContain('chtimes an image file: ok mtime=1500000000987654321');
    expect(lines).toContain('folder mtime after a create: moved=true');
    expect(lines).toContain('statfs: ok bsize=4096 namelen=255 blocks>0=true');
    expect(lines).toContain('fifo nonblocking write open, no reader: no such device or address');
    expect(lines).toContain('fifo nonblocking read open, no writer: ok read=0 ok');
    expect(lines).toContain('fifo blocking opens: ok writer=ok "through the fifo"');
    expect(lines).toContain('glob ../app/dat?/[st]*: [../app/data/sub ../app/data/two.txt] ok');
    expect(lines).toContain('glob through a self link: [d/link/link/file d/link/link/link] ok');
    expect(lines).toContain('41 links in one path: too many levels of symbolic links');
    expect(lines).toContain('memfd_create: "memory" size=4096 mode=-rwxrwxrwx cloexec=true');
    expect(lines).toContain('RemoveAll of 1500 files: listed=1500 ok gone=true');
    expect(lines).toContain('setitimer: ok then alarm clock');
    expect(lines).toContain('pipe read with a signal (SA_RESTART): user defined signal 1, read "after" ok');
    expect(lines).toContain('nanosleep with a signal: interrupted system call early=true');
    expect(lines[lines.length - 1]).toBe('done');
  });
});
