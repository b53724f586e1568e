/**
 * Every output, read back with real tools: skopeo and umoci for OCI layouts and archives,
 * `docker load` for docker archives, a real registry for --push.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir } from '../helpers/cli.js';
import { startRegistry, type Registry } from '../helpers/registry.js';

const example = path.join(repoRoot, 'examples', 'hello-c');
const work = tempDir('nabla-e2e-outputs-');
const out = (name: string) => path.join(work, name);
let registry: Registry;
let digest: string;
let pushedRef: string;

beforeAll(async () => {
  registry = await startRegistry();
  pushedRef = `${registry.host}/team/hello:1.0`;
  const result = await nabla([
    'build', example, '-t', pushedRef, '--push',
    '-o', `type=oci,dest=${out('layout')}`,
    '-o', `type=oci,dest=${out('image.tar')}`,
    '-o', `type=docker,dest=${out('docker.tar')}`,
    '-o', `type=dir,dest=${out('rootfs')}`,
  ]);
  expect(result.stderr).not.toMatch(/error/);
  expect(result.exitCode).toBe(0);
  digest = result.stdout.trim();
});

afterAll(async () => {
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
  await execa('docker', ['rmi', '-f', pushedRef], { reject: false });
});

const skopeoDigest = async (ref: string, ...flags: string[]) =>
  (JSON.parse((await execa('skopeo', ['inspect', ...flags, ref])).stdout) as { Digest: string }).Digest;

describe('outputs', () => {
  it('type=oci layout: skopeo sees the same digest and umoci unpacks a runnable bundle', async () => {
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await skopeoDigest(`oci:${out('layout')}:1.0`)).toBe(digest);
    await execa('umoci', ['unpack', '--rootless', '--image', `${out('layout')}:1.0`, out('bundle')]);
    const hello = path.join(out('bundle'), 'rootfs', 'nabla', 'hello');
    expect(fs.statSync(hello).mode & 0o777).toBe(0o755);
    const runtime = JSON.parse(fs.readFileSync(path.join(out('bundle'), 'config.json'), 'utf8')) as { process: { args: string[] } };
    expect(runtime.process.args).toEqual(['/nabla/hello']);
    expect((await execa(hello)).stdout).toBe('Hello from a nabla-build image!');
  });

  it('type=oci tar: skopeo reads the archive with the same digest', async () => {
    expect(await skopeoDigest(`oci-archive:${out('image.tar')}:1.0`)).toBe(digest);
  });

  it('type=docker: docker load tags it and docker run prints the greeting', async () => {
    await execa('docker', ['rmi', '-f', pushedRef], { reject: false });
    const load = await execa('docker', ['load', '-i', out('docker.tar')]);
    expect(load.stdout).toContain(`Loaded image: ${pushedRef}`);
    const run = await execa('docker', ['run', '--rm', '--network', 'none', pushedRef]);
    expect(run.stdout).toBe('Hello from a nabla-build image!');
  });

  it('type=dir: the image files with fixed modes', () => {
    const stat = (p: string) => fs.statSync(path.join(out('rootfs'), p)).mode & 0o777;
    expect(stat('nabla/hello')).toBe(0o755);
    expect(stat('app/hello.c')).toBe(0o644);
    expect(fs.existsSync(path.join(out('rootfs'), 'app', 'Dockerfile'))).toBe(false);
  });

  it('--push: the registry holds the same digest, and skopeo copies it back', async () => {
    expect(await skopeoDigest(`docker://${pushedRef}`, '--tls-verify=false')).toBe(digest);
    await execa('skopeo', ['copy', '--src-tls-verify=false', `docker://${pushedRef}`, `oci:${out('copied')}:1.0`]);
    expect(await skopeoDigest(`oci:${out('copied')}:1.0`)).toBe(digest);
  });

  it('pushing again reuses the blobs and gives the same digest', async () => {
    const again = await nabla(['build', example, '-t', `${registry.host}/team/hello:again`, '--push', '--json', '-q'], {
      env: { ...process.env, DEBUG: 'nabla:registry' },
    });
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toMatch(/is there already/);
    expect(again.stderr).not.toMatch(/uploading/);
    const result = JSON.parse(again.stdout) as { digest: string; published: string[] };
    expect(result.digest).toBe(digest);
    expect(result.published).toEqual([`${registry.host}/team/hello:again@${digest}`]);
  });

  it('inspect reads the layout and the archives back', async () => {
    for (const target of [out('layout'), out('image.tar')]) {
      const inspect = await nabla(['inspect', target, '--files']);
      expect(inspect.exitCode).toBe(0);
      expect(inspect.stdout).toContain(`digest      ${digest}`);
      expect(inspect.stdout).toContain('  nabla/hello');
    }
    const docker = await nabla(['inspect', out('docker.tar'), '--json']);
    expect(JSON.parse(docker.stdout)).toMatchObject({ config: { Entrypoint: ['/nabla/hello'], WorkingDir: '/app' } });
  });

  it('an existing layout folder is replaced whole, never merged', async () => {
    fs.writeFileSync(path.join(out('layout'), 'stale-file'), 'x');
    const result = await nabla(['build', example, '-o', `type=oci,dest=${out('layout')}`]);
    expect(result.exitCode).toBe(0);
    expect(fs.readdirSync(out('layout')).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    expect(fs.readdirSync(work).filter((f) => f.includes('nabla-tmp'))).toEqual([]);
  });
});
