/**
 * --push as Docker users have it, against Debian's docker-registry: htpasswd auth over TLS
 * with a CA made here (openssl), credentials from a credential helper (a script put on
 * PATH); a registry behind a token server written here that signs Bearer tokens for the
 * scopes a user may have; a proxy that answers 503 and breaks an upload mid-chunk. Each
 * image is examples/hello-c (the c toolchain, fast), read back with skopeo and docker pull;
 * over htpasswd+TLS, the SBOM too, found by the image's digest beside a signature another
 * tool listed there first.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { startFaultProxy, type Fault } from '../helpers/fault-proxy.js';
import { cyclonedxErrors } from '../helpers/cyclonedx.js';
import { listenOnLoopback, loopbackCertificates, type LoopbackCertificates } from '../helpers/loopback.js';
import { registryApi, startRegistry, type Descriptor, type Registry } from '../helpers/registry.js';

const example = path.join(repoRoot, 'examples', 'hello-c');
const GREETING = 'Hello from a nabla-build image!';
const CDX = 'application/vnd.cyclonedx+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const USER = 'alice';
const PASSWORD = 'correct horse';

let work: string;
let certs: LoopbackCertificates;
const registries: Registry[] = [];
const stops: (() => Promise<void>)[] = [];
const pulled: string[] = [];

/** The environment of one CLI run: its docker config, the helpers on PATH, what the helper answers. */
function pushEnv(config: object, extra: Record<string, string> = {}): Record<string, string> {
  const dir = tempDir('nabla-docker-config-');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return {
    DOCKER_CONFIG: dir,
    PATH: `${path.join(work, 'bin')}:${process.env.PATH}`,
    XDG_CONFIG_HOME: path.join(work, 'xdg'),
    HELPER_LOG: path.join(work, 'helper.log'),
    HELPER_SECRET: PASSWORD,
    ...extra,
  };
}

const push = (tags: string[], env: Record<string, string>) => nabla(['build', example, ...tags.flatMap((t) => ['-t', t]), '--push'], { env });

async function skopeo(args: string[]) {
  return execa('skopeo', args, { reject: false });
}

beforeAll(async () => {
  work = tempDir('nabla-registry-auth-');
  // A CA and a registry certificate for 127.0.0.1 it signs; a separate key signs the tokens.
  certs = await loopbackCertificates(work);
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=nabla test tokens', '-keyout', 'token.key', '-out', 'token.crt'], { cwd: work });
  fs.writeFileSync(path.join(work, 'htpasswd'), `${USER}:${bcrypt.hashSync(PASSWORD, 6)}\n`);
  // Credential helpers as docker runs them: `get`, the server on stdin, JSON on stdout.
  writeFiles(path.join(work, 'bin'), {
    'docker-credential-nablatest': [
      '#!/bin/sh',
      '[ "$1" = get ] || exit 2',
      'read server',
      'echo "$server" >> "$HELPER_LOG"',
      'if [ -n "$HELPER_FAIL" ]; then echo "$HELPER_FAIL"; exit 1; fi',
      `printf '{"ServerURL":"%s","Username":"${USER}","Secret":"%s"}\\n' "$server" "$HELPER_SECRET"`,
    ].join('\n'),
    'docker-credential-nablatoken': ['#!/bin/sh', 'read server', `printf '{"Username":"<token>","Secret":"refresh-${USER}"}\\n'`].join('\n'),
  });
  for (const name of fs.readdirSync(path.join(work, 'bin'))) fs.chmodSync(path.join(work, 'bin', name), 0o755);
});

afterAll(async () => {
  for (const ref of pulled) await execa('docker', ['rmi', '-f', ref], { reject: false });
  for (const stop of stops) await stop();
  for (const registry of registries) await registry.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('htpasswd over TLS, credentials from a credsStore helper', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry({
      htpasswd: path.join(work, 'htpasswd'),
      tls: { certificate: certs.certificate, key: certs.key },
    });
    registries.push(registry);
    // Docker's convention, in rootless Docker's place: XDG_CONFIG_HOME/docker/certs.d/HOST:PORT/ca.crt.
    fs.mkdirSync(path.join(work, 'xdg', 'docker', 'certs.d', registry.host), { recursive: true });
    fs.copyFileSync(certs.ca, path.join(work, 'xdg', 'docker', 'certs.d', registry.host, 'ca.crt'));
  });

  it('pushes with the helper\'s credentials and the CA from certs.d; skopeo and docker pull read it back', async () => {
    const ref = `${registry.host}/team/hello:1`;
    const result = await push([ref], pushEnv({ credsStore: 'nablatest', auths: { [registry.host]: {} } }));
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.exitCode).toBe(0);
    const digest = result.stdout.trim();
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fs.readFileSync(path.join(work, 'helper.log'), 'utf8')).toContain(`${registry.host}\n`);

    const certDir = path.join(work, 'xdg', 'docker', 'certs.d', registry.host);
    const inspect = await skopeo(['inspect', '--cert-dir', certDir, '--creds', `${USER}:${PASSWORD}`, `docker://${ref}`]);
    expect(inspect.stderr).toBe('');
    expect((JSON.parse(inspect.stdout) as { Digest: string }).Digest).toBe(digest);

    // docker pull through the engine (which treats loopback registries as insecure), logged in on its own config.
    const dockerConfig = tempDir('nabla-docker-cli-');
    await execa('docker', ['--config', dockerConfig, 'login', '-u', USER, '--password-stdin', registry.host], { input: PASSWORD });
    pulled.push(ref);
    await execa('docker', ['--config', dockerConfig, 'pull', ref]);
    const run = await execa('docker', ['run', '--rm', '--network', 'none', ref]);
    expect(run.stdout).toBe(GREETING);
    const repoDigests = await execa('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', ref]);
    expect(repoDigests.stdout).toContain(`@${digest}`);
  });

  it('the whole chain: a signature listed for the image before the push stays; skopeo, the referrers, the SBOM and docker pull', async () => {
    const repository = 'team/chain';
    const ref = `${registry.host}/${repository}:1`;
    const certDir = path.join(work, 'xdg', 'docker', 'certs.d', registry.host);
    const api = registryApi(registry.host, { ca: fs.readFileSync(certs.ca, 'utf8'), username: USER, password: PASSWORD });
    // The image this push will make (builds are reproducible), to list referrers of it first.
    const layout = path.join(work, 'chain-layout');
    const planned = await nabla(['build', example, '-t', ref, '-o', `type=oci,dest=${layout}`]);
    expect(planned.exitCode, planned.stderr).toBe(0);
    const subject = (JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] }).manifests[0]!;
    expect(subject.digest).toBe(planned.stdout.trim());
    const { mediaType, digest, size } = subject;
    // What cosign leaves: a signature whose subject is the image, listed under the referrers tag;
    // beside it an SBOM an earlier nabla-build attached to the same image, which this push replaces.
    const signature = await api.putArtifact(repository, {
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      document: Buffer.from('{"critical":{"image":{"docker-manifest-digest":"' + digest + '"}}}'),
      subject: { mediaType, digest, size },
      annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQDtest' },
    });
    const earlier = await api.putArtifact(repository, {
      artifactType: CDX,
      document: Buffer.from('{"bomFormat":"CycloneDX","specVersion":"1.5","version":1}'),
      subject: { mediaType, digest, size },
      annotations: { 'dev.nabla.artifact': 'sbom' },
    });
    const referrersTag = digest.replace(':', '-');
    await api.putManifest(repository, referrersTag, { schemaVersion: 2, mediaType: INDEX, manifests: [signature, earlier] });

    const sbomFile = path.join(work, 'chain.cdx.json');
    const result = await nabla(['build', example, '-t', ref, '--push', '--sbom', sbomFile], { env: pushEnv({ credsStore: 'nablatest' }) });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(digest);
    expect(fs.readFileSync(path.join(work, 'helper.log'), 'utf8')).toContain(`${registry.host}\n`);

    // (a) skopeo, trusting the CA from certs.d, reads the image; its copy checks every blob's digest.
    const creds = ['--cert-dir', certDir, '--creds', `${USER}:${PASSWORD}`];
    const inspect = await skopeo(['inspect', ...creds, `docker://${ref}`]);
    expect(inspect.stderr).toBe('');
    expect((JSON.parse(inspect.stdout) as { Digest: string }).Digest).toBe(digest);
    const copied = path.join(work, 'chain-copy');
    const copy = await skopeo(['copy', '--src-cert-dir', certDir, '--src-creds', `${USER}:${PASSWORD}`, `docker://${ref}`, `oci:${copied}:1`]);
    expect(copy.exitCode, copy.stderr).toBe(0);
    expect((JSON.parse(fs.readFileSync(path.join(copied, 'index.json'), 'utf8')) as { manifests: Descriptor[] }).manifests[0]!.digest).toBe(digest);

    // (b) The image's referrers, by its digest: the referrers API where the registry has it,
    // else (docker-registry 2.8) the referrers tag. The signature is still there; ours replaced the earlier SBOM.
    const fromApi = await api.get(`/v2/${repository}/referrers/${digest}`, INDEX);
    expect([200, 404]).toContain(fromApi.status);
    const listing =
      fromApi.status === 200 ? fromApi.body.toString() : (await skopeo(['inspect', '--raw', ...creds, `docker://${registry.host}/${repository}:${referrersTag}`])).stdout;
    const referrers = (JSON.parse(listing) as { manifests: Descriptor[] }).manifests;
    expect(referrers.map((r) => r.artifactType)).toEqual([signature.artifactType, CDX]);
    expect(referrers[0]).toEqual(signature);
    const ours = referrers[1]!;
    expect(ours.digest).not.toBe(earlier.digest);
    expect(ours.annotations).toMatchObject({ 'dev.nabla.artifact': 'sbom' });
    // The SBOM artifact, copied by skopeo (digests checked): its subject is the image, its layer the SBOM.
    const artifactDir = path.join(work, 'chain-sbom');
    const artifact = await skopeo(['copy', '--src-cert-dir', certDir, '--src-creds', `${USER}:${PASSWORD}`, `docker://${registry.host}/${repository}@${ours.digest}`, `dir:${artifactDir}`]);
    expect(artifact.exitCode, artifact.stderr).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(artifactDir, 'manifest.json'), 'utf8')) as { subject: Descriptor; layers: Descriptor[] };
    expect(manifest.subject).toEqual({ mediaType, digest, size });
    expect(manifest.layers[0]!.mediaType).toBe(CDX);
    const sbom = fs.readFileSync(path.join(artifactDir, manifest.layers[0]!.digest.slice('sha256:'.length)));
    expect(sbom.equals(fs.readFileSync(sbomFile))).toBe(true);
    const bom = JSON.parse(sbom.toString()) as { metadata: { component: { purl: string } } };
    expect(cyclonedxErrors(bom)).toEqual([]);
    expect(bom.metadata.component.purl).toContain(`@${digest.replace(':', '%3A')}?`);

    // (c) docker pull through the engine, logged in on its own config; the image runs. dockerd
    // counts 127.0.0.0/8 as an insecure registry: it speaks TLS here without checking the
    // certificate, and reads no certs.d folder for it, so no CA is given to the engine.
    const dockerConfig = tempDir('nabla-docker-cli-');
    await execa('docker', ['--config', dockerConfig, 'login', '-u', USER, '--password-stdin', registry.host], { input: PASSWORD });
    pulled.push(ref);
    await execa('docker', ['--config', dockerConfig, 'pull', ref]);
    expect((await execa('docker', ['run', '--rm', '--network', 'none', ref])).stdout).toBe(GREETING);
    const repoDigests = await execa('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', ref]);
    expect(repoDigests.stdout).toContain(`${repository}@${digest}`);
  });

  it('trusts a CA given as NABLA_REGISTRY_CA too, and refuses the registry without one', async () => {
    const env = { ...pushEnv({ credsStore: 'nablatest' }), XDG_CONFIG_HOME: path.join(work, 'no-xdg') };
    const untrusted = await push([`${registry.host}/team/hello:untrusted`], env);
    expect(untrusted.exitCode).toBe(5);
    expect(untrusted.stderr).toMatch(/its TLS certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(untrusted.stderr).toContain(`/etc/docker/certs.d/${registry.host}/ca.crt`);
    const given = await push([`${registry.host}/team/hello:ca-env`], { ...env, NABLA_REGISTRY_CA: path.join(work, 'ca.crt') });
    expect(given.exitCode).toBe(0);
  });

  it('a wrong password fails before the compile with one message, exit 5, and tags nothing', async () => {
    const ref = `${registry.host}/team/hello:wrong`;
    const result = await push([ref], pushEnv({ credsStore: 'nablatest' }, { HELPER_SECRET: 'wrong' }));
    expect(result.exitCode).toBe(5);
    const errors = result.stderr.split('\n').filter((line) => /error/i.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^nabla-build: error: registry ${registry.host} refused the push \\(HTTP 401 while checking the API \\(/v2/\\)\\)`));
    expect(result.stderr).toMatch(/the credentials from docker-credential-nablatest \(credsStore in .*config\.json\) were refused/);
    expect(result.stderr).not.toMatch(/compile c app/);
    const certDir = path.join(work, 'xdg', 'docker', 'certs.d', registry.host);
    const inspect = await skopeo(['inspect', '--cert-dir', certDir, '--creds', `${USER}:${PASSWORD}`, `docker://${ref}`]);
    expect(inspect.exitCode).not.toBe(0);
    expect(inspect.stderr).toMatch(/manifest unknown/);
  });

  it('a failing helper: one message naming the helper and the registry', async () => {
    const result = await push([`${registry.host}/team/hello:helper`], pushEnv({ credsStore: 'nablatest' }, { HELPER_FAIL: 'keychain is locked' }));
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toMatch(new RegExp(`credential helper docker-credential-nablatest \\(credsStore in .*\\) failed for ${registry.host}: keychain is locked`));
  });
});

/**
 * A token server as docker's protocol has it: Basic credentials or an OAuth2 refresh token in,
 * a JWT out, signed with token.key and carrying only the access `alice` may have: pull and
 * push under team/, nothing elsewhere. The registry checks signature, issuer, audience, scope.
 */
async function startTokenServer(service: string) {
  const key = fs.readFileSync(path.join(work, 'token.key'), 'utf8');
  const der = new crypto.X509Certificate(fs.readFileSync(path.join(work, 'token.crt'))).raw.toString('base64');
  const asked: { grant: string; scopes: string[] }[] = [];
  const b64 = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url!, 'http://x');
    const form = req.method === 'POST' ? new URLSearchParams(Buffer.concat(chunks).toString()) : undefined;
    const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    const user = form ? (form.get('refresh_token') === `refresh-${USER}` ? USER : undefined) : basic === `${USER}:${PASSWORD}` ? USER : undefined;
    const scopes = form ? (form.get('scope') ?? '').split(' ').filter(Boolean) : url.searchParams.getAll('scope');
    asked.push({ grant: form ? 'refresh_token' : 'basic', scopes });
    if (!user) return void res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"wrong credentials"}');
    const access = scopes.map((scope) => {
      const [type, name, actions] = scope.split(':') as [string, string, string];
      return { type, name, actions: name.startsWith('team/') ? actions.split(',') : [] };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der] };
    const claims = { iss: 'nabla-test', sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: crypto.randomUUID(), access };
    const signed = `${b64(header)}.${b64(claims)}`;
    const token = `${signed}.${b64(crypto.sign('sha256', Buffer.from(signed), key))}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  const listening = await listenOnLoopback(server);
  stops.push(listening.stop);
  return { realm: `http://${listening.host}/token`, asked };
}

describe('Bearer tokens from a token server, with checked scopes', () => {
  let registry: Registry;
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  beforeAll(async () => {
    tokens = await startTokenServer('nabla-registry');
    registry = await startRegistry({
      token: { realm: tokens.realm, service: 'nabla-registry', issuer: 'nabla-test', rootCertBundle: path.join(work, 'token.crt') },
    });
    registries.push(registry);
  });

  it('pushes two repositories with an identity token: the second mounts the blobs, asking for pull on the first', async () => {
    const [one, two] = [`${registry.host}/team/one:1`, `${registry.host}/team/two:1`];
    const result = await push([one, two], pushEnv({ credHelpers: { [registry.host]: 'nablatoken' } }));
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.exitCode).toBe(0);
    const digest = result.stdout.trim();
    expect(tokens.asked.every((a) => a.grant === 'refresh_token')).toBe(true);
    expect(tokens.asked.map((a) => a.scopes)).toContainEqual(['repository:team/two:pull,push', 'repository:team/one:pull']);
    expect(registry.log()).toMatch(/"POST \/v2\/team\/two\/blobs\/uploads\/\?mount=sha256%3A\w+&from=team%2Fone HTTP\/1\.1" 201/);
    expect(registry.log()).not.toMatch(/"(PATCH|PUT) \/v2\/team\/two\/blobs\/uploads/);
    for (const ref of [one, two]) {
      const inspect = await skopeo(['inspect', '--tls-verify=false', '--creds', `${USER}:${PASSWORD}`, `docker://${ref}`]);
      expect((JSON.parse(inspect.stdout) as { Digest: string }).Digest).toBe(digest);
    }
  });

  it('a repository the token server gives no push to: one 401 message, exit 5, no tag', async () => {
    const ref = `${registry.host}/other/app:1`;
    const result = await push([ref], pushEnv({ credHelpers: { [registry.host]: 'nablatoken' } }));
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toMatch(new RegExp(`registry ${registry.host} refused the push \\(HTTP 401 while checking blob sha256:\\w+\\)`));
    expect(result.stderr).toMatch(/check that you may push to other\/app/);
    const inspect = await skopeo(['inspect', '--tls-verify=false', '--creds', `${USER}:${PASSWORD}`, `docker://${ref}`]);
    expect(inspect.exitCode).not.toBe(0);
  });
});

describe('faults between nabla-build and the registry', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry();
    registries.push(registry);
  });

  async function proxied(decide: (req: http.IncomingMessage) => Fault | undefined) {
    const proxy = await startFaultProxy(registry.host, decide);
    stops.push(proxy.stop);
    return proxy;
  }

  it('a 503 and a connection broken mid-chunk are retried, said on stderr, and the push completes', async () => {
    let heads = 0;
    let patches = 0;
    const proxy = await proxied((req) => {
      if (req.method === 'HEAD' && ++heads === 1) return { status: 503, headers: { 'Retry-After': '1' } };
      if (req.method === 'PATCH' && ++patches === 2) return { cutAfter: 20_000 };
      return undefined;
    });
    const ref = `${proxy.host}/team/faults:1`;
    const result = await push([ref], pushEnv({}, { NABLA_REGISTRY_CHUNK_SIZE: '64k' }));
    expect(result.exitCode).toBe(0);
    expect(proxy.played).toEqual([expect.stringMatching(/^HEAD \/v2\/team\/faults\/blobs\/sha256:\w+ → 503$/), expect.stringMatching(/^PATCH .* → cut after 20000 bytes$/)]);
    expect(result.stderr).toMatch(/registry 127\.0\.0\.1:\d+: HTTP 503 while checking blob sha256:\w+; retrying in 1\.0 s \(retry 1 of 4\)/);
    expect(result.stderr).toMatch(/registry 127\.0\.0\.1:\d+: ECONNRESET while uploading blob sha256:\w+; retrying in \d\.\d s \(retry 1 of 4\)/);
    // The registry lost the broken session (docker-registry 2.8 cancels it): the blob went up again whole.
    expect(registry.log()).toMatch(/upload resumed at wrong offest|blob upload invalid/);
    const digest = result.stdout.trim();
    const copied = path.join(work, 'copied');
    // skopeo copy checks every blob against its digest.
    await execa('skopeo', ['copy', '--src-tls-verify=false', `docker://${registry.host}/team/faults:1`, `oci:${copied}:1`]);
    const index = JSON.parse(fs.readFileSync(path.join(copied, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests[0]!.digest).toBe(digest);
  });

  it('a push that fails after its layer went up leaves no tag: the manifest goes last', async () => {
    let posts = 0;
    const proxy = await proxied((req) => (req.method === 'POST' && ++posts === 2 ? { status: 403 } : undefined));
    const ref = `${proxy.host}/team/partial:1`;
    const result = await push([ref], pushEnv({}));
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toMatch(/refused the push \(HTTP 403 while starting a blob upload\)/);
    const tags = await fetch(`http://${registry.host}/v2/team/partial/tags/list`);
    expect(tags.status).toBe(404); // the repository has a blob but no tag
    expect(registry.log()).not.toMatch(/PUT \/v2\/team\/partial\/manifests/);
  });
});
