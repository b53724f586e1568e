/**
 * `nabla-build convert` of an image in a registry: Debian's docker-registry on 127.0.0.1
 * (plain, and htpasswd over TLS with a CA made here), holding an image put there through the distribution API as
 * another tool would: a static-pie C program (position-independent, no loader) in one gzipped
 * layer, under an index with linux/amd64 and linux/arm64 entries. The converted image runs
 * with plain `docker run`; credentials come from a credential helper, as for a push; a
 * missing tag or repository, an index without linux/amd64, credentials missing or refused
 * and a certificate not trusted each end with one message naming the cause.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/toolchain/catalog.js';
import { nabla, tempDir, writeFiles } from '../helpers/cli.js';
import { docker } from '../helpers/docker.js';
import { loopbackCertificates, type LoopbackCertificates } from '../helpers/loopback.js';
import { registryApi, startRegistry, type Descriptor, type Registry } from '../helpers/registry.js';

const work = tempDir('nabla-e2e-convert-registry-');
const NEW = 'nabla-e2e-convert-registry/hello:1';
const USER = 'alice';
const PASSWORD = 'correct horse';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha = (data: Buffer) => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;

let plain: Registry;
let locked: Registry;
let certs: LoopbackCertificates;
let image: { manifest: Descriptor; config: string };

/** A static-pie C program (gcc -static-pie), compiled in the c toolchain image. */
async function staticPie(): Promise<Buffer> {
  const toolchain = await nabla(['toolchain', 'build', 'c']);
  expect(toolchain.exitCode, toolchain.stderr).toBe(0);
  const dir = writeFiles(path.join(work, 'src'), {
    'hello.c': [
      '#include <stdio.h>',
      '#include <stdlib.h>',
      'extern const char __ehdr_start[];',
      'static const char *from[] = { "from", "a registry" };',
      'int main(int argc, char **argv) {',
      '  unsigned long base = (unsigned long)__ehdr_start;',
      '  printf("static-pie hello %s %s, GREETING=%s, moved: %s\\n", from[0], from[1], getenv("GREETING"), base >= 0x400000 && base % 0x200000 == 0 ? "yes" : "no");',
      '  for (int i = 1; i < argc; i++) printf("argv[%d]=%s\\n", i, argv[i]);',
      '  return 0;',
      '}',
      '',
    ].join('\n'),
  });
  const compiled = await docker('run', '--rm', '--network', 'none', '-v', `${dir}:/w`, '-w', '/w', openCatalog().image('c'), 'gcc', '-static-pie', '-fPIE', '-O2', '-o', 'hello', 'hello.c');
  expect(compiled.exitCode, compiled.stderr).toBe(0);
  return fs.readFileSync(path.join(dir, 'hello'));
}

/** One layer holding usr/bin/hello, as a registry keeps it (gzipped), and its uncompressed digest. */
async function layer(program: Buffer): Promise<{ gzipped: Buffer; diffId: string }> {
  const tar = pack();
  tar.entry({ name: 'usr/', type: 'directory', mode: 0o755 });
  tar.entry({ name: 'usr/bin/', type: 'directory', mode: 0o755 });
  tar.entry({ name: 'usr/bin/hello', mode: 0o755 }, program);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return { gzipped: gzipSync(raw), diffId: sha(raw) };
}

/** The image put into `registry` as team/hello: tag 1 (index: amd64 + arm64), tag arm-only (index: arm64 only). */
async function putImage(registry: Registry, program: Buffer, options: { username?: string; password?: string; ca?: string } = {}) {
  const api = registryApi(registry.host, options);
  const { gzipped, diffId } = await layer(program);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Entrypoint: ['hello'], Cmd: ['one'], Env: ['PATH=/usr/bin', 'GREETING=hi'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [diffId] },
    }),
  );
  const configBlob = await api.putBlob('team/hello', 'application/vnd.oci.image.config.v1+json', config);
  const layerBlob = await api.putBlob('team/hello', 'application/vnd.oci.image.layer.v1.tar+gzip', gzipped);
  const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configBlob, layers: [layerBlob] };
  const manifestDigest = sha(Buffer.from(JSON.stringify(manifest)));
  const put = await api.putManifest('team/hello', manifestDigest, manifest);
  const entry = (architecture: string) => ({ ...put, platform: { os: 'linux', architecture } });
  await api.putManifest('team/hello', '1', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry('arm64'), entry('amd64')] });
  await api.putManifest('team/hello', 'arm-only', { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry('arm64')] });
  return { manifest: put, config: configBlob.digest };
}

/**
 * The environment of one CLI run: its own docker config (`auths`, `credHelpers`), the
 * credential helper on PATH, and the CA of the TLS registry unless `trusted` is false.
 */
function withConfig(config: { auths?: Record<string, { auth: string }>; credHelpers?: Record<string, string> } = {}, trusted = true): { env: Record<string, string> } {
  const dir = tempDir('nabla-docker-config-');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return {
    env: {
      DOCKER_CONFIG: dir,
      PATH: `${path.join(work, 'bin')}:${process.env.PATH}`,
      XDG_CONFIG_HOME: path.join(work, 'xdg'),
      ...(trusted ? { NABLA_REGISTRY_CA: certs.ca } : {}),
    },
  };
}
const basic = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString('base64') });

beforeAll(async () => {
  const program = await staticPie();
  fs.writeFileSync(path.join(work, 'htpasswd'), `${USER}:${bcrypt.hashSync(PASSWORD, 6)}\n`);
  // A credential helper as docker runs it: `get`, the server on stdin, JSON on stdout.
  writeFiles(path.join(work, 'bin'), {
    'docker-credential-nablapull': ['#!/bin/sh', '[ "$1" = get ] || exit 2', 'read server', `printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}\\n' "$server"`, ''].join('\n'),
  });
  fs.chmodSync(path.join(work, 'bin', 'docker-credential-nablapull'), 0o755);
  certs = await loopbackCertificates(work);
  plain = await startRegistry();
  locked = await startRegistry({ htpasswd: path.join(work, 'htpasswd'), tls: { certificate: certs.certificate, key: certs.key } });
  image = await putImage(plain, program);
  await putImage(locked, program, { username: USER, password: PASSWORD, ca: fs.readFileSync(certs.ca, 'utf8') });
}, 10 * 60_000);

afterAll(async () => {
  await docker('rmi', '-f', NEW);
  await plain?.stop();
  await locked?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('convert: an image from a registry', () => {
  it('HOST/NAME:TAG that Docker lacks is pulled (linux/amd64 from the index); the static-pie runs under docker run', async () => {
    const converted = await nabla(['convert', `${plain.host}/team/hello:1`, '--load', '-t', NEW], withConfig());
    expect(converted.exitCode, converted.stderr).toBe(0);
    expect(converted.stderr).toContain(`pull from ${plain.host}`);
    expect(converted.stderr).toContain(image.manifest.digest);
    expect(converted.stderr).toContain('program  /usr/bin/hello (64-bit, machine 62, PIE, static)');
    const result = await docker('run', '--rm', '--network', 'none', NEW);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(['static-pie hello from a registry, GREETING=hi, moved: yes', 'argv[1]=one']);
    expect(result.exitCode).toBe(0);
    const labels = JSON.parse((await docker('image', 'inspect', NEW, '--format', '{{json .Config.Labels}}')).stdout) as Record<string, string>;
    expect(labels['dev.nabla.source.image']).toBe(image.config);
  });

  it('docker://HOST/NAME@DIGEST: the manifest by its digest; htpasswd over TLS with a credential helper\'s credentials and our CA', async () => {
    const byDigest = await nabla(['convert', `docker://${plain.host}/team/hello@${image.manifest.digest}`, '--check'], withConfig());
    expect(byDigest.exitCode, byDigest.stderr).toBe(0);
    expect(byDigest.stdout).toContain('result   the program can run through the tender');
    const loggedIn = await nabla(['convert', `docker://${locked.host}/team/hello:1`, '--check'], withConfig({ credHelpers: { [locked.host]: 'nablapull' } }));
    expect(loggedIn.exitCode, loggedIn.stderr).toBe(0);
    expect(loggedIn.stdout).toContain('program  /usr/bin/hello (64-bit, machine 62, PIE, static)');
  });

  it('no such tag, no such repository, no linux/amd64 in the index, credentials missing or refused, an untrusted certificate: one message each', async () => {
    const run = (image: string, env = withConfig()) => nabla(['convert', `docker://${image}`, '--check'], env);
    const noTag = await run(`${plain.host}/team/hello:nope`);
    expect(noTag.exitCode).toBe(2);
    expect(noTag.stderr).toContain(`registry ${plain.host} has no image team/hello:nope (MANIFEST_UNKNOWN: manifest unknown); its tags: 1, arm-only`);
    const noRepository = await run(`${plain.host}/team/nothing:1`);
    expect(noRepository.exitCode).toBe(2);
    expect(noRepository.stderr).toContain(`registry ${plain.host} has no repository team/nothing (NAME_UNKNOWN: repository name not known to registry)`);
    const arm = await run(`${plain.host}/team/hello:arm-only`);
    expect(arm.exitCode).toBe(2);
    expect(arm.stderr).toContain(`${plain.host}/team/hello:arm-only: its index has no linux/amd64 image (it has: linux/arm64)`);
    const anonymous = await run(`${locked.host}/team/hello:1`);
    expect(anonymous.exitCode).toBe(5);
    expect(anonymous.stderr).toContain(`registry ${locked.host} refused the pull (HTTP 401 while reading manifest 1)`);
    expect(anonymous.stderr).toContain(`no credentials for ${locked.host}: log in with \`docker login ${locked.host}\``);
    const wrong = await run(`${locked.host}/team/hello:1`, withConfig({ auths: { [locked.host]: basic(USER, 'wrong') } }));
    expect(wrong.exitCode).toBe(5);
    expect(wrong.stderr).toContain(`registry ${locked.host} refused the pull (HTTP 401`);
    expect(wrong.stderr).toMatch(/the credentials from .*config\.json were refused/);
    const untrusted = await run(`${locked.host}/team/hello:1`, withConfig({ credHelpers: { [locked.host]: 'nablapull' } }, false));
    expect(untrusted.exitCode).toBe(5);
    expect(untrusted.stderr).toContain(`registry ${locked.host}: its TLS certificate is not trusted`);
    expect(untrusted.stderr).toContain('NABLA_REGISTRY_CA=FILE');
    for (const result of [noTag, noRepository, arm, anonymous, wrong, untrusted]) expect(result.stdout).toBe('');
  });
});
