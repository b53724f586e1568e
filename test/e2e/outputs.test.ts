/**
 * Every output, checked by the real tools that read it: docker load/run, skopeo, umoci,
 * and a real registry (Debian's docker-registry on 127.0.0.1). First the publishers
 * in-process, on a static hello built with musl-gcc (no toolchain image involved); then
 * the same outputs through the CLI, building examples/hello-c.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublishers } from '../../src/build/publishers.js';
import type { OutputSpec } from '../../src/config/output-spec.js';
import { connectDocker } from '../../src/engine/docker.js';
import { buildImage } from '../../src/image/oci.js';
import { formatReference, type ImageReference, type RegistryReference } from '../../src/image/reference.js';
import type { ImageArtifact } from '../../src/image/types.js';
import { silentProgress } from '../../src/util/progress.js';
import { nabla, repoRoot, tempDir } from '../helpers/cli.js';
import { startRegistry, type Registry } from '../helpers/registry.js';

const GREETING = 'hello from a FROM-scratch image';
const run = Math.random().toString(36).slice(2, 8);
const tagFor = (name: string): ImageReference => ({ repository: `nabla-e2e/outputs-${name}`, tag: run });

let work: string;
let image: ImageArtifact;
let registry: Registry;
const images: string[] = [];

async function publish(output: OutputSpec, tags: ImageReference[]): Promise<string> {
  const [publisher] = createPublishers([output], tags, {
    engine: () => connectDocker(process.env.DOCKER_HOST),
    registry: { dockerConfig: path.join(os.homedir(), '.docker', 'config.json'), certsDirs: [] },
  });
  await publisher!.preflight?.();
  return publisher!.publish(image, silentProgress);
}

async function dockerRun(name: string): Promise<string> {
  const { stdout } = await execa('docker', ['run', '--rm', '--network', 'none', name]);
  return stdout;
}

beforeAll(async () => {
  work = tempDir('nabla-outputs-');
  registry = await startRegistry();
  fs.writeFileSync(
    path.join(work, 'hello.c'),
    `#include <unistd.h>\nint main(void) { static const char m[] = "${GREETING}\\n"; write(1, m, sizeof m - 1); return 0; }\n`,
  );
  await execa('musl-gcc', ['-static', '-Os', '-o', path.join(work, 'hello'), path.join(work, 'hello.c')]);
  image = await buildImage({
    entries: [
      { type: 'file', path: '/hello', mode: 0o755, data: fs.readFileSync(path.join(work, 'hello')) },
      { type: 'directory', path: '/data', mode: 0o700 },
      { type: 'file', path: '/etc/greeting', mode: 0o644, data: Buffer.from(`${GREETING}\n`) },
      { type: 'symlink', path: '/bin/hello', target: '../hello' },
    ],
    config: { entrypoint: ['/hello'], cmd: [], env: ['PATH=/bin'], workingDir: '/', exposedPorts: [], labels: { 'dev.nabla.test': 'outputs' } },
    sourceDateEpoch: 1_700_000_000,
  });
});

afterAll(async () => {
  await registry?.stop();
  if (images.length > 0) await execa('docker', ['rmi', '--force', ...images], { reject: false });
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('outputs, read back by real tools', () => {
  it('type=docker: `docker load -i` takes it, and `docker run` prints the greeting', async () => {
    const tag = formatReference(tagFor('archive'));
    images.push(tag);
    const dest = path.join(work, 'docker.tar');
    expect(await publish({ type: 'docker', dest }, [tagFor('archive')])).toBe(dest);
    const load = await execa('docker', ['load', '-i', dest]);
    expect(load.stdout).toContain(`Loaded image: ${tag}`);
    const { stdout: id } = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag]);
    expect(id).toBe(image.config.digest);
    expect(await dockerRun(tag)).toBe(GREETING);
  });

  it('--load: the engine gets the image under every tag, and it runs', async () => {
    const tags = [tagFor('load'), { ...tagFor('load'), tag: `${run}-second` }];
    images.push(...tags.map(formatReference));
    // A fresh engine state for these names, so the load itself is what is tested.
    await execa('docker', ['rmi', '--force', ...tags.map(formatReference)], { reject: false });
    expect(await publish({ type: 'load' }, tags)).toBe(tags.map(formatReference).join(', '));
    for (const tag of tags) expect(await dockerRun(formatReference(tag))).toBe(GREETING);
  });

  it('type=oci (folder): skopeo sees our digest and umoci unpacks it by tag', async () => {
    const dest = path.join(work, 'layout');
    await publish({ type: 'oci', dest, format: 'layout' }, [tagFor('oci')]);
    const inspect = JSON.parse((await execa('skopeo', ['inspect', `oci:${dest}`])).stdout);
    expect(inspect.Digest).toBe(image.manifest.digest);
    expect(inspect.Labels).toEqual({ 'dev.nabla.test': 'outputs' });
    const bundle = path.join(work, 'bundle');
    await execa('umoci', ['unpack', '--image', `${dest}:${run}`, bundle]);
    expect(fs.statSync(path.join(bundle, 'rootfs', 'hello')).mode & 0o777).toBe(0o755);
    const { stdout } = await execa(path.join(bundle, 'rootfs', 'hello'));
    expect(stdout).toBe(GREETING);
  });

  it('type=oci (.tar): skopeo reads the archive and sees our digest', async () => {
    const dest = path.join(work, 'oci.tar');
    await publish({ type: 'oci', dest, format: 'tar' }, [tagFor('ocitar')]);
    const inspect = JSON.parse((await execa('skopeo', ['inspect', `oci-archive:${dest}`])).stdout);
    expect(inspect.Digest).toBe(image.manifest.digest);
    expect(inspect.Layers).toEqual([image.layers[0]!.digest]);
  });

  it('type=dir: the files are there with their modes', async () => {
    const dest = path.join(work, 'rootfs');
    await publish({ type: 'dir', dest }, []);
    const mode = (p: string) => fs.lstatSync(path.join(dest, p)).mode & 0o777;
    expect([mode('hello'), mode('data'), mode('etc/greeting')]).toEqual([0o755, 0o700, 0o644]);
    expect(fs.readlinkSync(path.join(dest, 'bin', 'hello'))).toBe('../hello');
    expect((await execa(path.join(dest, 'bin', 'hello'))).stdout).toBe(GREETING);
  });
});

describe('--push to a real registry', () => {
  it('pushes, and skopeo finds the same digest and copies the image back', async () => {
    const tag: RegistryReference = { registry: registry.host, repository: 'team/hello', tag: run };
    const name = formatReference(tag);
    expect(await publish({ type: 'push', targets: [tag] }, [tag])).toBe(`${name}@${image.manifest.digest}`);
    const inspect = JSON.parse((await execa('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`])).stdout);
    expect(inspect.Digest).toBe(image.manifest.digest);
    const copy = path.join(work, 'copied');
    await execa('skopeo', ['copy', '--src-tls-verify=false', `docker://${name}`, `oci:${copy}:${run}`]);
    const copied = JSON.parse((await execa('skopeo', ['inspect', `oci:${copy}:${run}`])).stdout);
    expect(copied.Digest).toBe(image.manifest.digest);

    // A second push finds every blob in place and only puts the manifest again.
    const again = { ...tag, tag: `${run}-again` };
    expect(await publish({ type: 'push', targets: [again] }, [again])).toBe(
      `${registry.host}/team/hello:${run}-again@${image.manifest.digest}`,
    );
  });
});

describe('the same outputs through the CLI (examples/hello-c)', () => {
  const example = path.join(repoRoot, 'examples', 'hello-c');
  const out = (name: string) => path.join(work, 'cli', name);
  let digest: string;
  let pushedRef: string;

  beforeAll(async () => {
    fs.mkdirSync(out(''));
    pushedRef = `${registry.host}/team/hello:1.0`;
    images.push(pushedRef);
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

  const skopeoDigest = async (ref: string, ...flags: string[]) =>
    (JSON.parse((await execa('skopeo', ['inspect', ...flags, ref])).stdout) as { Digest: string }).Digest;

  it('type=oci layout: skopeo sees the same digest and umoci unpacks a runnable bundle', async () => {
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await skopeoDigest(`oci:${out('layout')}:1.0`)).toBe(digest);
    await execa('umoci', ['unpack', '--rootless', '--image', `${out('layout')}:1.0`, out('bundle')]);
    const nabla = path.join(out('bundle'), 'rootfs', 'nabla');
    expect(fs.statSync(path.join(nabla, 'nabla-run')).mode & 0o777).toBe(0o755);
    const runtime = JSON.parse(fs.readFileSync(path.join(out('bundle'), 'config.json'), 'utf8')) as { process: { args: string[] } };
    expect(runtime.process.args).toEqual(['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '--heap=flat', '/nabla/hello.nabla']);
    // The bundle's tender runs its unikernel right here, with the bundle's paths.
    const run = await execa(path.join(nabla, 'nabla-run'), ['--mem=256', `--disk=${path.join(nabla, 'rootfs.tar')}`, '--heap=flat', path.join(nabla, 'hello.nabla')]);
    expect(run.stdout).toBe('Hello from a nabla-build image!');
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
    expect(fs.readdirSync(out('rootfs'))).toEqual(['nabla']); // the host sees the tender and its files, nothing else
    expect(stat('nabla/nabla-run')).toBe(0o755);
    expect(stat('nabla/hello.nabla')).toBe(0o755);
    expect(stat('nabla/rootfs.tar')).toBe(0o644);
  });

  it('the unikernel\'s rootfs.tar holds the app files, /etc, /root, /tmp and the time zones, without Dockerfile or nabla.json', async () => {
    const rootfs = path.join(out('rootfs'), 'nabla', 'rootfs.tar');
    const names = (await execa('tar', ['-tf', rootfs])).stdout.split('\n');
    const list = (await execa('tar', ['--utc', '-tvf', rootfs])).stdout.split('\n'); // the same order
    const etc = ['etc/', 'etc/group', 'etc/hosts', 'etc/localtime', 'etc/nsswitch.conf', 'etc/passwd'];
    expect(names.filter((name) => !name.startsWith('usr/share/zoneinfo/'))).toEqual(['.nabla-index', 'app/', 'app/hello.c', ...etc, 'root/', 'tmp/', 'usr/', 'usr/share/']);
    expect(list[0]).toMatch(/^-r--r--r-- 0\/0 .* 1980-01-01 00:00 \.nabla-index$/); // the index of the others (src/rootfs/disk.ts)
    expect(names).toContain('usr/share/zoneinfo/Europe/Paris');
    const line = (name: string) => list[names.indexOf(name)];
    expect(line('app/hello.c')).toMatch(/^-rw-r--r-- 0\/0 .* 1980-01-01 00:00 /);
    expect(line('etc/passwd')).toMatch(/^-rw-r--r-- 0\/0 /);
    expect(line('root/')).toMatch(/^drwx------ 0\/0 /);
    expect(line('tmp/')).toMatch(/^drwxrwxrwt 0\/0 /);
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
      expect(inspect.stdout).toContain('  nabla/hello.nabla');
    }
    const docker = await nabla(['inspect', out('docker.tar'), '--json']);
    expect(JSON.parse(docker.stdout)).toMatchObject({ config: { Entrypoint: ['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '--heap=flat', '/nabla/hello.nabla'], WorkingDir: '/app' } });
  });

  it('an existing layout folder is replaced whole, never merged', async () => {
    fs.writeFileSync(path.join(out('layout'), 'stale-file'), 'x');
    const result = await nabla(['build', example, '-o', `type=oci,dest=${out('layout')}`]);
    expect(result.exitCode).toBe(0);
    expect(fs.readdirSync(out('layout')).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    expect(fs.readdirSync(out('')).filter((f) => f.includes('nabla-'))).toEqual([]);
  });
});
