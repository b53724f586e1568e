/**
 * A container memory limit smaller than the image's guest memory (`docker run --memory`
 * below nabla.json's `memory`): the tender reads the cgroup's limit and gives the guest
 * what fits, so an app that allocates until it cannot gets malloc's failure, not the
 * kernel's OOM killer (exit 137) mid-run; a limit too small for the image at all is one
 * line and exit 125 before anything runs.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { LoadedImages, docker } from '../helpers/docker.js';

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

  it('--memory 20m: too small for the image: one line that says how much to give, exit 125', async () => {
    const result = await eat('--memory', '20m');
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^nabla-run: \/nabla\/eat\.nabla: needs at least \d+ MiB of guest memory, but the container's memory limit \(20 MiB\) leaves 4: give the container at least \d+ MiB \(docker run --memory\)$/,
    );
    expect(result.exitCode).toBe(125);
  });
});
