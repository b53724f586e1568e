/**
 * `toolchain bootstrap --from`: the base image pulled from a registry instead of made with
 * debootstrap (the debootstrap path runs in the e2e global setup on a fresh machine).
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla } from '../helpers/cli.js';
import { startRegistry, type Registry } from '../helpers/registry.js';

const BASE = 'nabla/debian:bookworm';
let registry: Registry;
const imageId = async (ref: string) => (await execa('docker', ['image', 'inspect', ref, '--format', '{{.Id}}'])).stdout;

beforeAll(async () => {
  registry = await startRegistry();
  await execa('skopeo', ['copy', '--dest-tls-verify=false', `docker-daemon:${BASE}`, `docker://${registry.host}/debian:bookworm`]);
});
afterAll(async () => {
  await execa('docker', ['rmi', `${registry.host}/debian:bookworm`], { reject: false });
  await registry?.stop();
});

describe('toolchain bootstrap', () => {
  it('is a no-op when the base image exists', async () => {
    const result = await nabla(['toolchain', 'bootstrap']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`${BASE} exists already`);
  });

  it('--from pulls an image from a registry and tags it as the base', async () => {
    const before = await imageId(BASE);
    const result = await nabla(['toolchain', 'bootstrap', '--force', '--from', `${registry.host}/debian:bookworm`]);
    expect(result.stderr).not.toMatch(/error/);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(BASE);
    expect(await imageId(BASE)).toBe(before); // same content: toolchain images stay valid
  });

  it('--from an image the registry does not have fails with a fix', async () => {
    const result = await nabla(['toolchain', 'bootstrap', '--force', '--from', `${registry.host}/debian:nope`]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/cannot pull .*debian:nope/);
    expect(result.stderr).toMatch(/fix: +check the name/);
  });
});
