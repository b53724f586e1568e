/**
 * A container memory limit smaller than the image's guest memory (`docker run --memory`
 * below nabla.json's `memory`): the tender reads the cgroup's limit and gives the guest
 * what fits, so an app that allocates until it cannot gets malloc's failure, not the
 * kernel's OOM killer (exit 137) mid-run; a limit too small for the image at all is one
 * line and exit 125 before anything runs. Without a limit, the host caps the guest all the
 * same: an app writing past its allocations faults instead of growing.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { LoadedImages, docker, waitForLog } from '../helpers/docker.js';

const IMAGE = 'nabla-e2e/memory-c:1';
const images = new LoadedImages();

beforeAll(async () => {
  await images.build(path.join(repoRoot, 'test', 'fixtures', 'memory-c'), IMAGE);
}, 300_000);
afterAll(() => images.removeAll());

const eat = (...flags: string[]) => docker('run', '--rm', '--network', 'none', ...flags, IMAGE);

describe('guest memory under a container memory limit', () => {
  it('without a limit the guest has its 256 MiB: the app gets most of it, then malloc fails', async () => {
    const result = await eat();
    expect(result.exitCode, result.stderr).toBe(0);
    const got = Number(/^got (\d+) MiB, then malloc failed$/.exec(result.stdout)?.[1]);
    expect(got).toBeGreaterThan(200);
    expect(got).toBeLessThan(256);
  });

  it('--memory 64m: the guest is sized to fit; the app runs out of malloc, not into the OOM killer', async () => {
    const result = await eat('--memory', '64m');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0); // 137 would be the OOM killer
    const got = Number(/^got (\d+) MiB, then malloc failed$/.exec(result.stdout)?.[1]);
    expect(got).toBeGreaterThan(24);
    expect(got).toBeLessThan(64);
  });

  it('a hostile app that writes past its allocations is stopped by SIGSEGV, and the container holds no more than --mem', async () => {
    const name = `nabla-e2e-past-${process.pid}`;
    const started = await docker('run', '-d', '--name', name, '--network', 'none', IMAGE, 'past');
    expect(started.exitCode, started.stderr).toBe(0);
    try {
      const line = await waitForLog(name, 'before', 60_000);
      const [, got, past] = /got (\d+) MiB, then wrote (\d+) MiB past them before/.exec(line) ?? [];
      expect(Number(got)).toBeGreaterThan(200);
      // Below its lowest block it runs through what is its own anyway (malloc's brk heap, the
      // libOS's tables), then meets pages nobody made usable: well within --mem.
      expect(Number(past)).toBeLessThan(256 - Number(got));
      // What the container holds now, the app's memory still touched: --mem (256 MiB) and the tender's few MiB.
      const stats = await docker('stats', '--no-stream', '--format', '{{.MemUsage}}', name);
      const used = /^([\d.]+)(MiB|GiB)/.exec(stats.stdout.trim());
      expect(used, stats.stdout).not.toBeNull();
      const usedMib = Number(used![1]) * (used![2] === 'GiB' ? 1024 : 1);
      console.log(`hostile writer: ${line.trim()}; the container uses ${usedMib} MiB`);
      expect(usedMib).toBeLessThan(256 + 16);
    } finally {
      await docker('rm', '-f', name);
    }
  });

  it('--memory 20m: too small for the image: one line that says how much to give, exit 125', async () => {
    const result = await eat('--memory', '20m');
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^nabla-run: \/nabla\/eat\.nabla: needs at least \d+ MiB of guest memory, but the container's memory limit \(20 MiB\) leaves 4: give the container at least \d+ MiB \(docker run --memory\)$/,
    );
    expect(result.exitCode).toBe(125);
  });
});
