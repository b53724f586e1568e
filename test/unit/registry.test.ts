/**
 * The registry client against an in-process fake registry (the e2e suite uses a real one):
 * uploads whole and in chunks, resume after a broken chunk, retries and their bounds,
 * Basic and Bearer auth with scopes, identity tokens, cross-repository mounts, TLS with a
 * CA of our own; and docker's credential sources (config.json, credential helpers).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseChunkSize, tlsOptionsFor } from '../../src/registry/access.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/client.js';
import { dockerCredentials, type Credentials } from '../../src/registry/credentials.js';
import { parseRetryAfter, retryDelay, type RetryPolicy } from '../../src/registry/retry.js';
import { EnvironmentError, OutputError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/cli.js';
import { freePort, listenOnLoopback, loopbackCertificates, type LoopbackCertificates, type LoopbackServer } from '../helpers/loopback.js';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  contentRange?: string;
  body: Buffer;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, self: string) => boolean | void;

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** Retries without waiting; `waits` records what the client would have slept. */
function quickRetry(attempts = 4): RetryPolicy & { waits: number[] } {
  const waits: number[] = [];
  return { attempts, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000, random: () => 0.5, sleep: async (ms) => void waits.push(ms), waits };
}

const password: Credentials = { kind: 'password', username: 'user', password: 'pw', from: 'the test' };
/** For a gate: the call was answered (here), not passed on to the fake registry. */
const answered = (_sent: unknown) => true;
const sha = (data: Buffer) => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;

/**
 * A registry in memory: blobs per repository, upload sessions with their bytes (PATCH with
 * Content-Range, GET for the Range, PUT ?digest=), mounts, manifests. `gate` may answer first;
 * `patchHook` may break a PATCH after taking part of its body.
 */
async function fakeRegistry(options: { gate?: Handler; server?: (listener: http.RequestListener) => http.Server | https.Server; patchHook?: (req: http.IncomingMessage, session: { bytes: Buffer }, body: Buffer) => boolean } = {}) {
  const seen: Seen[] = [];
  const blobs = new Map<string, Map<string, Buffer>>(); // repository → digest → bytes
  const sessions = new Map<string, { repository: string; bytes: Buffer }>();
  const manifests = new Map<string, Buffer>();
  let next = 0;
  const listener: http.RequestListener = async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return;
    }
    const body = Buffer.concat(chunks);
    const self = listening.host;
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, contentRange: req.headers['content-range'], body });
    if (options.gate?.(req, res, body, self)) return;
    const url = new URL(req.url!, 'http://x');
    const repoOf = (p: string) => /^\/v2\/(.+?)\/(blobs|manifests)\//.exec(p)?.[1] ?? '';
    const repository = repoOf(url.pathname);
    const blob = /\/blobs\/(sha256:\w+)$/.exec(url.pathname);
    const upload = /\/blobs\/uploads\/(\w+)$/.exec(url.pathname);
    if (url.pathname === '/v2/') return void res.writeHead(200).end('{}');
    if (req.method === 'HEAD' && blob) return void res.writeHead(blobs.get(repository)?.has(blob[1]!) ? 200 : 404).end();
    if (req.method === 'POST' && url.pathname.endsWith('/blobs/uploads/')) {
      const mount = url.searchParams.get('mount');
      const source = blobs.get(url.searchParams.get('from') ?? '')?.get(mount ?? '');
      if (mount && source) {
        blobs.set(repository, (blobs.get(repository) ?? new Map()).set(mount, source));
        return void res.writeHead(201).end();
      }
      const id = `u${next++}`;
      sessions.set(id, { repository, bytes: Buffer.alloc(0) });
      return void res.writeHead(202, { Location: `/v2/${repository}/blobs/uploads/${id}?_state=s${id}`, Range: '0-0' }).end();
    }
    const session = upload ? sessions.get(upload[1]!) : undefined;
    if (upload && !session) return void res.writeHead(404).end('{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}');
    if (session && req.method === 'GET') {
      const end = Math.max(session.bytes.length - 1, 0);
      return void res.writeHead(204, { Location: `${url.pathname}?_state=again`, Range: `0-${end}` }).end();
    }
    if (session && req.method === 'PATCH') {
      const start = Number(/^(\d+)-/.exec(req.headers['content-range'] ?? '')?.[1] ?? 0);
      if (start !== session.bytes.length) return void res.writeHead(416).end();
      session.bytes = Buffer.concat([session.bytes, body]);
      return void res.writeHead(202, { Location: `${url.pathname}?_state=${session.bytes.length}`, Range: `0-${session.bytes.length - 1}` }).end();
    }
    if (session && req.method === 'PUT') {
      const bytes = Buffer.concat([session.bytes, body]);
      const digest = url.searchParams.get('digest')!;
      if (sha(bytes) !== digest) return void res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
      sessions.delete(upload![1]!);
      blobs.set(session.repository, (blobs.get(session.repository) ?? new Map()).set(digest, bytes));
      return void res.writeHead(201).end();
    }
    const manifest = /\/manifests\/([\w.-]+)$/.exec(url.pathname);
    if (req.method === 'PUT' && manifest) {
      manifests.set(`${repository}:${manifest[1]}`, body);
      return void res.writeHead(201, { 'Docker-Content-Digest': sha(body) }).end();
    }
    res.writeHead(400).end();
  };
  const server = options.server?.(listener) ?? http.createServer(listener);
  if (options.patchHook) {
    // Breaks a PATCH at the socket, after handing part of its body to the session.
    server.prependListener('request', (req: http.IncomingMessage) => {
      if (req.method !== 'PATCH') return;
      const id = /\/blobs\/uploads\/(\w+)/.exec(req.url!)?.[1];
      const session = sessions.get(id ?? '');
      if (!session) return;
      req.once('data', (chunk: Buffer) => {
        if (options.patchHook!(req, session, chunk)) req.socket.destroy();
      });
    });
  }
  const listening = await listenOnLoopback(server);
  servers.push(listening);
  return { host: listening.host, seen, blobs, sessions, manifests };
}

const client = (host: string, credentials?: Credentials, options: RegistryClientOptions = {}) =>
  new RegistryClient(host, 'team/app', credentials, { retry: quickRetry(), ...options });

describe('registry client: uploads', () => {
  it('uploads a small blob in one PUT, keeping the query of a relative Location', async () => {
    const registry = await fakeRegistry();
    const data = Buffer.from('small');
    await client(registry.host).uploadBlob(sha(data), data);
    expect(registry.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /v2/team/app/blobs/uploads/',
      `PUT /v2/team/app/blobs/uploads/u0?_state=su0&digest=${encodeURIComponent(sha(data))}`,
    ]);
    expect(registry.blobs.get('team/app')!.get(sha(data))).toEqual(data);
  });

  it('uploads a big blob in PATCH chunks with Content-Range, following each Location, then closes it with the digest', async () => {
    const registry = await fakeRegistry();
    const data = Buffer.from('0123456789abcdefghij'.repeat(100)); // 2,000 bytes
    await client(registry.host, undefined, { chunkSize: 1024 }).uploadBlob(sha(data), data);
    expect(registry.seen.map((s) => `${s.method} ${s.url.replace(/\?.*/, '')} ${s.contentRange ?? ''} ${s.body.length}`.trim())).toEqual([
      'POST /v2/team/app/blobs/uploads/  0',
      'PATCH /v2/team/app/blobs/uploads/u0 0-1023 1024',
      'PATCH /v2/team/app/blobs/uploads/u0 1024-1999 976',
      'PUT /v2/team/app/blobs/uploads/u0  0',
    ]);
    expect(registry.seen[2]!.url).toContain('_state=1024'); // the Location of the first chunk's answer
    expect(registry.blobs.get('team/app')!.get(sha(data))).toEqual(data);
  });

  it('resumes after a chunk broken mid-way: asks where the upload stands (Range) and sends from there', async () => {
    let broken = false;
    const registry = await fakeRegistry({
      patchHook(_req, session, first) {
        if (broken || session.bytes.length === 0) return false;
        broken = true;
        session.bytes = Buffer.concat([session.bytes, first.subarray(0, 100)]); // the registry kept 100 bytes of it
        return true;
      },
    });
    const data = crypto.randomBytes(3000);
    const retry = quickRetry();
    const notices: string[] = [];
    await client(registry.host, undefined, { chunkSize: 1024, retry, onRetry: (m) => notices.push(m) }).uploadBlob(sha(data), data);
    expect(registry.blobs.get('team/app')!.get(sha(data))).toEqual(data);
    const calls = registry.seen.map((s) => `${s.method} ${s.contentRange ?? ''}`.trim());
    expect(calls).toEqual(['POST', 'PATCH 0-1023', 'PATCH 1024-2047', 'HEAD', 'GET', 'PATCH 1124-2147', 'PATCH 2148-2999', 'PUT']);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^registry 127\.0\.0\.1:\d+: ECONNRESET while uploading blob sha256:\w+; retrying in 0\.1 s \(retry 1 of 3\)$/);
  });

  it('starts a new upload when the session is gone, and when the registry refuses the range (416)', async () => {
    let patches = 0;
    const registry = await fakeRegistry({
      gate(req, res) {
        if (req.method === 'PATCH' && ++patches === 2) return answered(res.writeHead(416).end());
        if (req.method === 'GET' && req.url!.includes('/uploads/')) return answered(res.writeHead(404).end());
        return false;
      },
    });
    const data = crypto.randomBytes(2500);
    await client(registry.host, undefined, { chunkSize: 1024 }).uploadBlob(sha(data), data);
    expect(registry.blobs.get('team/app')!.get(sha(data))).toEqual(data);
    expect(registry.seen.filter((s) => s.method === 'POST')).toHaveLength(2);
  });

  it('sends a small blob again when its PUT lost the connection, first checking it did not land', async () => {
    let puts = 0;
    const registry = await fakeRegistry({
      gate(req, res) {
        if (req.method === 'PUT' && req.url!.includes('/uploads/') && ++puts === 1) return answered(res.socket!.destroy());
        return false;
      },
    });
    const data = Buffer.from('a layer');
    await client(registry.host).uploadBlob(sha(data), data);
    expect(registry.seen.map((s) => s.method)).toEqual(['POST', 'PUT', 'HEAD', 'GET', 'PUT']);
    expect(registry.blobs.get('team/app')!.get(sha(data))).toEqual(data);
  });

  it('mounts a blob from another repository, with a token for both scopes', async () => {
    const tokenScopes: string[][] = [];
    const registry = await fakeRegistry({
      gate(req, res, _body, self) {
        const url = new URL(req.url!, 'http://x');
        if (url.pathname === '/token') {
          tokenScopes.push(url.searchParams.getAll('scope'));
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `T${tokenScopes.length}` }));
          return true;
        }
        if (!req.headers.authorization) {
          res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${self}/token",service="fake"` }).end();
          return true;
        }
        return false;
      },
    });
    const data = Buffer.from('shared layer');
    registry.blobs.set('team/base', new Map([[sha(data), data]]));
    await client(registry.host, password).uploadBlob(sha(data), data, { mountFrom: 'team/base' });
    const mount = registry.seen.find((s) => s.method === 'POST' && s.authorization)!;
    expect(mount.url).toBe(`/v2/team/app/blobs/uploads/?mount=${encodeURIComponent(sha(data))}&from=team%2Fbase`);
    expect(tokenScopes).toEqual([['repository:team/app:pull,push', 'repository:team/base:pull']]);
    expect(registry.blobs.get('team/app')!.get(sha(data))).toEqual(data);
    expect(registry.seen.some((s) => s.method === 'PUT')).toBe(false);
  });

  it('uploads as usual when a mount is refused for want of pull on the source', async () => {
    const registry = await fakeRegistry({
      gate(req, res) {
        if (!req.url!.includes('mount=')) return false;
        return answered(res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"' }).end('{"errors":[{"code":"DENIED"}]}'));
      },
    });
    const data = Buffer.from('the source is not ours to read');
    await client(registry.host, password).uploadBlob(sha(data), data, { mountFrom: 'someone/else' });
    expect(registry.seen.map((s) => `${s.method} ${s.url.replace(/\?.*/, '')}`)).toEqual([
      'POST /v2/team/app/blobs/uploads/',
      'POST /v2/team/app/blobs/uploads/', // the same, answered with the password, still refused
      'POST /v2/team/app/blobs/uploads/',
      'PUT /v2/team/app/blobs/uploads/u0',
    ]);
    expect(registry.blobs.get('team/app')!.get(sha(data))).toEqual(data);
  });

  it('uploads into the session a registry opens when it cannot mount', async () => {
    const registry = await fakeRegistry();
    const data = Buffer.from('not in team/base');
    await client(registry.host).uploadBlob(sha(data), data, { mountFrom: 'team/base' });
    expect(registry.seen.map((s) => s.method)).toEqual(['POST', 'PUT']);
    expect(registry.blobs.get('team/app')!.get(sha(data))).toEqual(data);
  });
});

describe('registry client: retries', () => {
  it('retries a 503 and a 429, honouring Retry-After, and says so', async () => {
    let heads = 0;
    const registry = await fakeRegistry({
      gate(req, res) {
        if (req.method !== 'HEAD') return false;
        heads++;
        if (heads === 1) return answered(res.writeHead(503).end());
        if (heads === 2) return answered(res.writeHead(429, { 'Retry-After': '3' }).end());
        return false;
      },
    });
    const retry = quickRetry();
    const notices: string[] = [];
    expect(await client(registry.host, undefined, { retry, onRetry: (m) => notices.push(m) }).hasBlob('sha256:00')).toBe(false);
    expect(retry.waits).toEqual([75, 3000]); // backoff with jitter, then the registry's own 3 s
    expect(notices[0]).toMatch(/HTTP 503 while checking blob sha256:00; retrying in 0\.1 s \(retry 1 of 3\)/);
    expect(notices[1]).toMatch(/HTTP 429 while checking blob sha256:00; retrying in 3\.0 s \(retry 2 of 3\)/);
  });

  it('gives up after the policy\'s attempts with the last answer', async () => {
    const registry = await fakeRegistry({ gate: (_req, res) => answered(res.writeHead(502).end('bad gateway')) });
    const put = client(registry.host).putManifest('1', 'application/vnd.oci.image.manifest.v1+json', Buffer.from('{}'));
    await expect(put).rejects.toThrow(/HTTP 502 while putting manifest 1\): bad gateway/);
    expect(registry.seen).toHaveLength(4);
  });

  it('does not retry a refusal or a registry that is not there', async () => {
    const registry = await fakeRegistry({ gate: (_req, res) => answered(res.writeHead(400).end()) });
    await expect(client(registry.host).hasBlob('sha256:00')).rejects.toThrow(/HTTP 400/);
    expect(registry.seen).toHaveLength(1);
    const port = await freePort();
    const retry = quickRetry();
    await expect(client(`127.0.0.1:${port}`, undefined, { retry }).ping()).rejects.toThrow(/cannot reach registry 127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(retry.waits).toEqual([]);
  });

  it('computes bounded, jittered delays and reads Retry-After as seconds or a date', () => {
    const policy = { ...quickRetry(), random: () => 1 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryDelay({ ...policy, random: () => 0 }, 3)).toBe(200);
    expect(retryDelay(policy, 1, '120')).toBe(5000); // capped at maxRetryAfterMs
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('registry client: auth', () => {
  /** A registry behind Bearer tokens from /token, which records what it was asked. */
  async function tokenRegistry(options: { grant?: (params: URLSearchParams, req: http.IncomingMessage) => string | undefined } = {}) {
    const asked: { method: string; params: URLSearchParams; authorization?: string }[] = [];
    const registry = await fakeRegistry({
      gate(req, res, body, self) {
        const url = new URL(req.url!, 'http://x');
        if (url.pathname === '/token') {
          const params = req.method === 'POST' ? new URLSearchParams(body.toString()) : url.searchParams;
          asked.push({ method: req.method!, params, authorization: req.headers.authorization });
          const token = options.grant ? options.grant(params, req) : 'T0K';
          if (!token) return answered(res.writeHead(401).end('{"details":"bad credentials"}'));
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 300 }));
          return true;
        }
        if (!req.headers.authorization?.startsWith('Bearer ')) {
          res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${self}/token",service="reg",scope="repository:team/app:pull"` }).end();
          return true;
        }
        return false;
      },
    });
    return { ...registry, asked };
  }

  it('fetches one token with the push scope for the whole push, with Basic credentials', async () => {
    const registry = await tokenRegistry();
    const c = client(registry.host, password);
    await c.ping();
    expect(await c.hasBlob('sha256:00')).toBe(false);
    await c.putManifest('1', 'x', Buffer.from('{}'));
    expect(registry.asked).toHaveLength(1);
    expect(registry.asked[0]!.params.get('service')).toBe('reg');
    expect(registry.asked[0]!.params.get('account')).toBe('user');
    expect(registry.asked[0]!.params.getAll('scope')).toEqual(['repository:team/app:pull,push']);
    expect(registry.asked[0]!.authorization).toBe(`Basic ${Buffer.from('user:pw').toString('base64')}`);
    expect(registry.seen.at(-1)!.authorization).toBe('Bearer T0K');
  });

  it('trades an identity token for an access token with the OAuth2 refresh-token grant', async () => {
    const registry = await tokenRegistry();
    await client(registry.host, { kind: 'identity-token', token: 'REFRESH', from: 'the test' }).ping();
    expect(registry.asked[0]!.method).toBe('POST');
    expect(Object.fromEntries(registry.asked[0]!.params)).toEqual({
      grant_type: 'refresh_token',
      client_id: 'nabla-build',
      refresh_token: 'REFRESH',
      service: 'reg',
      scope: 'repository:team/app:pull,push',
    });
  });

  it('asks again with the scope a registry says is missing (insufficient_scope)', async () => {
    let gotScopes: string[] = [];
    const registry = await fakeRegistry({
      gate(req, res, _body, self) {
        const url = new URL(req.url!, 'http://x');
        if (url.pathname === '/token') {
          gotScopes = url.searchParams.getAll('scope');
          res.writeHead(200).end(JSON.stringify({ token: gotScopes.join('+') }));
          return true;
        }
        const needs = 'registry:catalog:*';
        if (!req.headers.authorization?.includes(needs)) {
          res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${self}/token",service="reg",scope="${needs}",error="insufficient_scope"` }).end();
          return true;
        }
        return false;
      },
    });
    await client(registry.host, password).ping();
    expect(gotScopes).toEqual(['repository:team/app:pull,push', 'registry:catalog:*']);
  });

  it('refuses wrong credentials at the token endpoint with one message naming where they came from', async () => {
    const registry = await tokenRegistry({ grant: () => undefined });
    const error = await client(registry.host, password).ping().catch((e: unknown) => e as OutputError);
    expect(error).toBeInstanceOf(OutputError);
    expect(error!.message).toMatch(/^registry 127\.0\.0\.1:\d+ refused the push \(HTTP 401 while getting a token from http:\/\/127\.0\.0\.1:\d+\/token\)/);
    expect(error!.hint).toMatch(/the credentials from the test were refused: log in again with `docker login 127\.0\.0\.1:\d+`/);
  });

  it('answers Basic with the password; a refused one fails the ping, and so does having none', async () => {
    const good = `Basic ${Buffer.from('user:pw').toString('base64')}`;
    const registry = await fakeRegistry({
      gate(req, res) {
        if (req.headers.authorization === good) return false;
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"', 'Content-Type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return true;
      },
    });
    await client(registry.host, password).ping();
    const wrong = await client(registry.host, { ...password, password: 'nope' }).ping().catch((e: unknown) => e as OutputError);
    expect(wrong!.message).toMatch(/HTTP 401 while checking the API \(\/v2\/\)\): UNAUTHORIZED: authentication required$/);
    expect(wrong!.hint).toMatch(/the credentials from the test were refused/);
    const none = await client(registry.host).ping().catch((e: unknown) => e as OutputError);
    expect(none!.hint).toMatch(/^no credentials for 127\.0\.0\.1:\d+: log in with `docker login/);
  });

  it('turns a refusal into an OutputError with the status and the registry message', async () => {
    const registry = await fakeRegistry({
      gate: (_req, res) => answered(res.writeHead(403, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }))),
    });
    const put = client(registry.host).putManifest('1', 'application/vnd.oci.image.manifest.v1+json', Buffer.from('{}'));
    await expect(put).rejects.toBeInstanceOf(OutputError);
    await expect(put).rejects.toThrow(/HTTP 403 while putting manifest 1\): DENIED: requested access to the resource is denied/);
  });
});

describe('registry client: TLS', () => {
  let certs: LoopbackCertificates;
  beforeAll(async () => {
    certs = await loopbackCertificates(tempDir('nabla-registry-tls-'));
  });

  const tlsRegistry = () =>
    fakeRegistry({ server: (listener) => https.createServer({ cert: fs.readFileSync(certs.certificate), key: fs.readFileSync(certs.key) }, listener) });

  it('speaks TLS to a loopback registry that does, trusting the CA in certs.d/HOST:PORT', async () => {
    const registry = await tlsRegistry();
    const certsDir = tempDir();
    fs.mkdirSync(path.join(certsDir, registry.host));
    fs.copyFileSync(certs.ca, path.join(certsDir, registry.host, 'ca.crt'));
    await client(registry.host, undefined, { tls: tlsOptionsFor(registry.host, { certsDirs: [certsDir] }) }).ping();
    await client(registry.host, undefined, { tls: tlsOptionsFor(registry.host, { certsDirs: [], caFile: certs.ca }) }).ping();
    expect(registry.seen).toHaveLength(2);
  });

  it('refuses a certificate it cannot trust, saying where to put the CA', async () => {
    const registry = await tlsRegistry();
    const error = await client(registry.host).ping().catch((e: unknown) => e as OutputError);
    expect(error!.message).toMatch(/^registry 127\.0\.0\.1:\d+: its TLS certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(error!.hint).toContain(`/etc/docker/certs.d/${registry.host}/ca.crt`);
    expect(error!.hint).toContain('NABLA_REGISTRY_CA');
  });

  it('names an unreadable NABLA_REGISTRY_CA, and adds nothing for a registry without a certs.d folder', () => {
    const missing = path.join(tempDir(), 'ca.pem');
    expect(() => tlsOptionsFor('r.example', { certsDirs: [], caFile: missing })).toThrow(`cannot read the certificate file ${missing}: ENOENT`);
    expect(tlsOptionsFor('r.example', { certsDirs: [tempDir()] })).toEqual({});
  });

  it('reads sizes for NABLA_REGISTRY_CHUNK_SIZE and refuses nonsense', () => {
    expect(parseChunkSize('64k')).toBe(65536);
    expect(parseChunkSize('8M')).toBe(8 * 1024 * 1024);
    expect(parseChunkSize('5000')).toBe(5000);
    expect(() => parseChunkSize('12')).toThrow(/at least 1024 bytes/);
    expect(() => parseChunkSize('lots')).toThrow(/NABLA_REGISTRY_CHUNK_SIZE=lots/);
  });
});

describe('docker credentials', () => {
  let bin: string;
  let savedPath: string | undefined;
  beforeAll(() => {
    // Helpers as docker runs them: found on PATH, the server on stdin, JSON on stdout.
    bin = tempDir('nabla-helpers-');
    const helper = (name: string, script: string) => fs.writeFileSync(path.join(bin, `docker-credential-${name}`), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    helper('store', 'read server; [ "$1" = get ] || exit 9; printf \'{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}\' "$server"');
    helper('special', 'read server; printf \'{"Username":"bob","Secret":"for-%s"}\' "$server"');
    helper('tokens', 'read server; printf \'{"Username":"<token>","Secret":"REFRESH"}\'');
    helper('empty', 'echo "credentials not found in native keychain"; exit 1');
    helper('broken', 'echo "error getting credentials - err: exit status 1, out: `keychain locked`"; exit 1');
    helper('garbled', 'echo "not json"');
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${process.env.PATH}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
  });

  const config = (content: object) => {
    const file = path.join(tempDir(), 'config.json');
    fs.writeFileSync(file, JSON.stringify(content));
    return file;
  };

  it('reads auths: base64 user:password, or an identity token, matching keys with a scheme', async () => {
    const file = config({ auths: { 'https://reg.example:5000': { auth: Buffer.from('u:p:w').toString('base64') }, 'tok.example': { identitytoken: 'ID' } } });
    expect(await dockerCredentials('reg.example:5000', file)).toEqual({ kind: 'password', username: 'u', password: 'p:w', from: `auths in ${file}` });
    expect(await dockerCredentials('tok.example', file)).toEqual({ kind: 'identity-token', token: 'ID', from: `auths in ${file}` });
    expect(await dockerCredentials('other.example', file)).toBeUndefined();
    expect(await dockerCredentials('reg.example', path.join(tempDir(), 'none.json'))).toBeUndefined();
  });

  it('asks credHelpers first, then credsStore, before auths; the server goes on stdin', async () => {
    const file = config({ credsStore: 'store', credHelpers: { 'special.example': 'special' }, auths: { 'reg.example': { auth: 'dTpw' } } });
    expect(await dockerCredentials('special.example', file)).toMatchObject({ username: 'bob', password: 'for-special.example' });
    expect(await dockerCredentials('reg.example', file)).toEqual({
      kind: 'password',
      username: 'alice',
      password: 's3cret',
      from: `docker-credential-store (credsStore in ${file})`,
    });
    expect(await dockerCredentials('docker.io', config({ credHelpers: { 'index.docker.io': 'special' } }))).toMatchObject({
      password: 'for-https://index.docker.io/v1/',
    });
  });

  it('takes "<token>" from a helper as an identity token, and "not found" as no credentials', async () => {
    expect(await dockerCredentials('r.example', config({ credsStore: 'tokens' }))).toMatchObject({ kind: 'identity-token', token: 'REFRESH' });
    expect(await dockerCredentials('r.example', config({ credsStore: 'empty' }))).toBeUndefined();
  });

  it('names the helper and the registry when a helper fails, is missing, answers garbage or is a path', async () => {
    const failure = async (store: string) => (await dockerCredentials('r.example', config({ credsStore: store })).catch((e: unknown) => e)) as OutputError;
    const broken = await failure('broken');
    expect(broken).toBeInstanceOf(OutputError);
    expect(broken!.message).toMatch(/^credential helper docker-credential-broken \(credsStore in .*config\.json\) failed for r\.example: error getting credentials/);
    const missing = await failure('absent');
    expect(missing).toBeInstanceOf(EnvironmentError);
    expect(missing!.message).toMatch(/docker-credential-absent is not on PATH$/);
    expect((await failure('garbled'))!.message).toMatch(/failed for r\.example: its answer is not JSON$/);
    expect((await failure('../../bin/sh'))!.message).toMatch(/is not a plain name/);
  });
});
