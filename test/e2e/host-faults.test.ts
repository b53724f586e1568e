/**
 * The host failing under a build (issue 15, item 6): a full disk while writing each kind of
 * output, the Docker engine's connection dying in the middle of a build, and the registry's
 * in the middle of a push. Each gives one clear error and a non-zero exit, and leaves
 * nothing half written: no output file or folder (hidden temporaries included), no tag in
 * the engine, no tag in the registry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir } from '../helpers/cli.js';
import { startCutProxy } from '../helpers/cut-proxy.js';
import { docker } from '../helpers/docker.js';
import { startRegistry, type Registry } from '../helpers/registry.js';

const HELLO = path.join(repoRoot, 'examples', 'hello-c');
const work = tempDir('nabla-e2e-host-faults-');

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('a full disk while writing the output', () => {
  const full = path.join(work, 'full');
  beforeAll(async () => {
    // A warm build first: the toolchain is there, only the output is left to write.
    const warm = await nabla(['build', HELLO, '-o', `type=oci,dest=${path.join(work, 'warm.tar')}`]);
    expect(warm.exitCode, warm.stderr).toBe(0);
    fs.mkdirSync(full);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'nabla-e2e-full', full]);
  }, 900_000);
  afterAll(async () => {
    await execa('umount', [full], { reject: false });
  });

  it.each([
    ['an OCI archive', 'type=oci,dest=FULL/image.tar'],
    ['an OCI layout folder', 'type=oci,dest=FULL/layout'],
    ['a docker archive', 'type=docker,dest=FULL/image.tar'],
    ['the image\'s files', 'type=dir,dest=FULL/files'],
  ])('%s: says the disk is full, exits non-zero, leaves nothing', async (_what, output) => {
    const result = await nabla(['build', HELLO, '-t', 'nabla-e2e/full:1', '-o', output.replace('FULL', full)]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('no space left on device');
    expect(result.stderr).toContain(full);
    expect(result.stderr).toContain('free some disk space or pick another dest=');
    expect(fs.readdirSync(full)).toEqual([]);
  });
});

describe('the engine\'s connection dies in the middle of a build', () => {
  it('one message naming the engine, exit non-zero, no output and no tag', async () => {
    await docker('rmi', '-f', 'nabla-e2e/cut-engine:1');
    // Cut when the build waits for the compile container it started: the compile is under way.
    let compileMade = false;
    const proxy = await startCutProxy('/var/run/docker.sock', path.join(work, 'docker.sock'), (_sent, chunk) => {
      const request = chunk.toString('latin1');
      compileMade ||= request.includes('"dev.nabla.build":"compile"');
      return compileMade && /POST \S*\/containers\/[0-9a-f]+\/wait/.test(request);
    });
    const dest = path.join(work, 'cut-engine.tar');
    const result = await nabla(['build', HELLO, '--load', '-t', 'nabla-e2e/cut-engine:1', '-o', `type=oci,dest=${dest}`], {
      env: { DOCKER_HOST: `unix://${proxy.address}` },
    });
    const leftovers = (await docker('ps', '-aq', '--filter', 'label=dev.nabla.build=compile', '--filter', `label=dev.nabla.app=${HELLO}`)).stdout.split('\n');
    await docker('rm', '-f', ...leftovers.filter(Boolean));
    expect(result.exitCode, result.stderr).toBe(3);
    expect(result.stderr).toContain(`lost the connection to the Docker engine at unix://${proxy.address}: socket hang up`);
    expect(result.stderr).toContain('docker ps -a --filter label=dev.nabla.build=compile');
    expect(fs.readdirSync(work).filter((f) => f.includes('cut-engine'))).toEqual([]);
    expect((await docker('image', 'inspect', 'nabla-e2e/cut-engine:1')).exitCode).not.toBe(0);
  });
});

describe('the registry\'s connection dies in the middle of a push', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('one message naming the registry, exit non-zero, and the registry has no such tag', async () => {
    // Cut after the first 100 KB of the upload: blobs are going up, the manifest is not.
    const proxy = await startCutProxy(registry.host, undefined, (sent) => sent > 100_000);
    const result = await nabla(['build', HELLO, '--push', '-t', `${proxy.address}/team/cut:1`]);
    expect(result.exitCode, result.stderr).not.toBe(0);
    expect(result.stderr).toContain(proxy.address);
    expect(result.stderr).not.toContain('internal error');
    const tags = await fetch(`http://${registry.host}/v2/team/cut/tags/list`);
    if (tags.ok) expect(((await tags.json()) as { tags: string[] | null }).tags ?? []).toEqual([]);
    else expect(tags.status).toBe(404);
  });
});
