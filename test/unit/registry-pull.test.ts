/**
 * Pulling an image for `convert` (registry/pull.ts) from an in-process fake registry: the
 * linux/amd64 entry of an index, a manifest by digest, blobs through a redirect to another
 * origin (which never sees our credentials); and what is refused: a blob or manifest that is
 * not what its digest names, an index without linux/amd64, a zstd layer, a missing tag or
 * repository; and a hostile registry: answers larger than they can be, too many layers,
 * redirects to plain http or to this machine.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readImageLayers } from '../../src/image/read.js';
import { RegistryClient } from '../../src/registry/client.js';
import { httpTransport, MAX_ANSWER, type Transport } from '../../src/registry/http.js';
import { pullImage } from '../../src/registry/pull.js';
import { ConfigError, OutputError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/cli.js';
import { listenOnLoopback, type LoopbackServer } from '../helpers/loopback.js';

const sha = (data: Buffer) => `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** A tar with one file, as a layer. */
function layerTar(name: string, content: string): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const body = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  body.write(content);
  return Buffer.concat([header, body, Buffer.alloc(1024)]);
}

interface Fake {
  host: string;
  /** Requests as "METHOD path auth?" */
  seen: string[];
  /** Requests the storage origin (blob redirects) got. */
  storage: string[];
}

/** A registry serving one image (in an index with an arm64 sibling unless `amd64: false`). */
interface FakeOptions {
  amd64?: boolean;
  corruptLayer?: boolean;
  zstd?: boolean;
  redirect?: boolean;
  /** Blobs redirected with a Location relative to the blob's URL ("data/DIGEST"). */
  relativeRedirect?: boolean;
  /** Blobs served with this many bytes more than they have, Content-Length and all (or without it: "chunked"). */
  blobExtra?: number;
  chunked?: boolean;
  /** The manifest's layer list: this many copies of its one layer. */
  layers?: number;
}

async function fakeRegistry(options: FakeOptions = {}): Promise<Fake & { manifestDigest: string; configDigest: string }> {
  const layer = layerTar('hello.txt', 'hello from the registry\n');
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['hello'] } }));
  const blobs = new Map([[sha(layer), layer], [sha(config), config]]);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: Array.from({ length: options.layers ?? 1 }, () => ({ mediaType: `application/vnd.oci.image.layer.v1.tar${options.zstd ? '+zstd' : ''}`, digest: sha(layer), size: layer.length })),
    }),
  );
  const platforms = [...(options.amd64 === false ? [] : [{ os: 'linux', architecture: 'amd64' }]), { os: 'linux', architecture: 'arm64', variant: 'v8' }];
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: platforms.map((platform) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, platform })),
    }),
  );
  const manifests = new Map([['1', index], [sha(manifest), manifest]]);
  const seen: string[] = [];
  const storage: string[] = [];
  const store = await listenOnLoopback(
    http.createServer((req, res) => {
      storage.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      const data = blobs.get(req.url!.slice(1));
      if (!data) return void res.writeHead(404).end();
      res.writeHead(200).end(options.corruptLayer && data === layer ? Buffer.concat([data.subarray(0, 10), Buffer.from('X'), data.subarray(11)]) : data);
    }),
  );
  servers.push(store);
  const registry = await listenOnLoopback(
    http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      if (req.headers.authorization !== 'Basic dXNlcjpwdw==') return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"' }).end();
      if (req.url === '/v2/team/app/tags/list') return void res.writeHead(200).end('{"name":"team/app","tags":["1"]}');
      if (!req.url!.startsWith('/v2/team/app/')) return void res.writeHead(404).end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
      const m = /^\/v2\/team\/app\/(manifests|blobs)\/(.+)$/.exec(req.url!);
      if (m?.[1] === 'manifests') {
        const data = manifests.get(m[2]!);
        if (!data) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
        return void res.writeHead(200, { 'Content-Type': JSON.parse(data.toString()).mediaType }).end(data);
      }
      if (m?.[1] === 'blobs' && options.redirect) return void res.writeHead(307, { Location: `http://${store.host}/${m[2]}` }).end();
      if (m?.[1] === 'blobs' && options.relativeRedirect && !m[2]!.startsWith('data/')) return void res.writeHead(307, { Location: `data/${m[2]}` }).end();
      const data = m ? blobs.get(m[2]!.replace(/^data\//, '')) : undefined;
      if (!data) return void res.writeHead(404).end();
      if (options.blobExtra) {
        const more = Buffer.concat([data, Buffer.alloc(options.blobExtra)]);
        return void res.writeHead(200, options.chunked ? {} : { 'Content-Length': String(more.length) }).end(more);
      }
      res.writeHead(200).end(options.corruptLayer && data === layer ? Buffer.concat([data.subarray(0, 10), Buffer.from('X'), data.subarray(11)]) : data);
    }),
  );
  servers.push(registry);
  return { host: registry.host, seen, storage, manifestDigest: sha(manifest), configDigest: sha(config) };
}

const client = (host: string) =>
  new RegistryClient(host, 'team/app', { kind: 'password', username: 'user', password: 'pw', from: 'the test' }, { operation: 'pull' });

/** The source cannot be used as given: a ConfigError naming IMAGE (exit 2). */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).field).toBe('IMAGE');
  return (error as ConfigError).message;
}

describe('convert: pulling an image from a registry', () => {
  it('takes the linux/amd64 entry of an index, checks every digest, and writes an OCI layout read as any other', async () => {
    const fake = await fakeRegistry({ redirect: true });
    const dir = tempDir('nabla-pull-');
    const pulled = await pullImage(client(fake.host), 'team/app', '1', dir, 1 << 20);
    expect(pulled).toEqual({ digest: fake.manifestDigest, configDigest: fake.configDigest });
    const { summary, layers } = await readImageLayers(dir);
    expect(summary.imageId).toBe(fake.configDigest);
    expect(summary.config.config?.Cmd).toEqual(['hello']);
    expect(layers[0]!.toString('latin1')).toContain('hello from the registry');
    // Pull scope only; the blobs came from the storage origin, which never got our credentials.
    expect(fake.seen.filter((s) => s.includes('/blobs/')).length).toBe(2);
    expect(fake.storage).toHaveLength(2);
    expect(fake.storage.every((s) => s.endsWith(' -'))).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a manifest by digest; a wrong digest is refused', async () => {
    const fake = await fakeRegistry();
    const dir = tempDir('nabla-pull-');
    expect((await pullImage(client(fake.host), 'team/app', fake.manifestDigest, dir, 1 << 20)).digest).toBe(fake.manifestDigest);
    const other = tempDir('nabla-pull-');
    expect(await refusal(pullImage(client(fake.host), 'team/app', `sha256:${'0'.repeat(64)}`, other, 1 << 20))).toContain(
      `registry ${fake.host} has no image team/app@sha256:${'0'.repeat(64)} (MANIFEST_UNKNOWN: manifest unknown); its tags: 1`,
    );
    const none = new RegistryClient(fake.host, 'team/none', { kind: 'password', username: 'user', password: 'pw', from: 'the test' }, { operation: 'pull' });
    expect(await refusal(pullImage(none, 'team/none', '1', other, 1 << 20))).toBe(
      `registry ${fake.host} has no repository team/none (NAME_UNKNOWN: repository name not known to registry)`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('refuses a blob that is not what its digest names, an index without linux/amd64, a zstd layer, a missing tag, a blob too large', async () => {
    const pull = async (options: FakeOptions, reference = '1', max = 1 << 20) => {
      const fake = await fakeRegistry(options);
      const dir = tempDir('nabla-pull-');
      try {
        return await refusal(pullImage(client(fake.host), 'team/app', reference, dir, max));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    expect(await pull({ corruptLayer: true })).toMatch(/team\/app:1: the registry served blob sha256:\w+ that is not what its digest names/);
    expect(await pull({ corruptLayer: true, redirect: true })).toContain('that is not what its digest names');
    expect(await pull({ amd64: false })).toContain('team/app:1: its index has no linux/amd64 image (it has: linux/arm64)');
    expect(await pull({ zstd: true })).toContain('is a application/vnd.oci.image.layer.v1.tar+zstd');
    expect(await pull({}, '2')).toContain('has no image team/app:2 (MANIFEST_UNKNOWN: manifest unknown); its tags: 1');
    expect(await pull({}, '1', 100)).toMatch(/blob sha256:\w+ has \d+ bytes, more than 100/);
  });

  it('a hostile registry: a blob longer than its size, a huge manifest, too many layers', async () => {
    const failure = async (options: FakeOptions) => {
      const fake = await fakeRegistry(options);
      const dir = tempDir('nabla-pull-');
      try {
        return await pullImage(client(fake.host), 'team/app', '1', dir, 1 << 20).then(() => 'pulled', (e: unknown) => e as Error);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    for (const chunked of [false, true]) {
      const error = await failure({ blobExtra: 1 << 20, chunked });
      expect(error).toBeInstanceOf(OutputError);
      expect((error as OutputError).message).toMatch(/registry 127\.0\.0\.1:\d+: the answer is larger than \d+ bytes \(.*\), more than such an answer holds/);
    }
    expect(((await failure({ layers: 300 })) as Error).message).toContain('its manifest lists 300 layers, more than 256');
    expect(await failure({ relativeRedirect: true })).toBe('pulled'); // data/DIGEST, read from the blob's own URL
  });

  it('an answer larger than MAX_ANSWER is refused, by its Content-Length or as it comes; a HEAD saying a large size is not', async () => {
    const big = await listenOnLoopback(http.createServer((req, res) => res.writeHead(200, { 'Content-Length': String(MAX_ANSWER + 1) }).end(req.method === 'HEAD' ? undefined : Buffer.alloc(MAX_ANSWER + 1))));
    servers.push(big);
    const transport = httpTransport();
    const error = await transport({ method: 'GET', url: new URL(`http://${big.host}/v2/`) }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('ETOOLARGE');
    const small = await transport({ method: 'GET', url: new URL(`http://${big.host}/v2/`), maxBody: MAX_ANSWER + 1 });
    expect(small.body.length).toBe(MAX_ANSWER + 1);
    // A HEAD (hasBlob) says how big the blob is, and sends nothing: fine.
    expect((await transport({ method: 'HEAD', url: new URL(`http://${big.host}/v2/`) })).status).toBe(200);
  });

  it('redirects: never to plain http or to this machine from a registry elsewhere', async () => {
    // A registry "elsewhere" through a fake transport: what it answers, and where the client goes.
    const asked: string[] = [];
    const redirectTo = (location: string): Transport => async (request) => {
      asked.push(request.url.href);
      const answer = (status: number, headers: Record<string, string> = {}, body = Buffer.alloc(0)) => ({ status, header: (n: string) => headers[n.toLowerCase()], body });
      return request.url.pathname.includes('/blobs/') && request.url.host === 'registry.test' ? answer(307, { location }) : answer(200, {}, Buffer.from('x'));
    };
    const remote = (location: string) =>
      new RegistryClient('registry.test', 'team/app', undefined, { operation: 'pull', transport: redirectTo(location) }).getBlob(`sha256:${'a'.repeat(64)}`, 10);
    for (const [location, why] of [
      ['http://storage.test/blob', 'a redirect to http://storage.test, which is not https'],
      ['https://127.0.0.1:5000/blob', 'a redirect to this machine (https://127.0.0.1:5000)'],
      ['https://localhost/blob', 'a redirect to this machine (https://localhost)'],
    ]) {
      const error = await remote(location!).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutputError);
      expect((error as OutputError).message).toContain(why);
    }
    expect((await remote('https://storage.test/blob')).toString()).toBe('x');
    expect((await remote('../../../storage/blob')).toString()).toBe('x');
    expect(asked.at(-1)).toBe('https://registry.test/v2/storage/blob'); // relative to the blob's URL, not the root
  });

  it('credentials refused: the pull says so, naming where they came from', async () => {
    const fake = await fakeRegistry();
    const wrong = new RegistryClient(fake.host, 'team/app', { kind: 'password', username: 'user', password: 'nope', from: 'the test config' }, { operation: 'pull' });
    const dir = tempDir('nabla-pull-');
    const error = await pullImage(wrong, 'team/app', '1', dir, 1 << 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).message).toContain(`registry ${fake.host} refused the pull (HTTP 401 while reading manifest 1)`);
    expect((error as OutputError).hint).toContain('the credentials from the test config were refused');
    expect((error as OutputError).field).toBe('IMAGE');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
