/** Image writing and publishing without Docker: tar, manifest/config, file outputs, push and load with fakes. */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPublishers } from '../../src/build/publishers.js';
import type { OutputSpec } from '../../src/config/output-spec.js';
import { buildImage, sha256Digest } from '../../src/image/oci.js';
import { attach, referrerDescriptor } from '../../src/image/referrers.js';
import { readImage } from '../../src/image/read.js';
import { LoadPublisher } from '../../src/image/publishers/load.js';
import { PushPublisher } from '../../src/image/publishers/push.js';
import type { ImageReference, RegistryReference } from '../../src/image/reference.js';
import type { ImageArtifact, ImageSpec, Publisher } from '../../src/image/types.js';
import { ConfigError, OutputError } from '../../src/util/errors.js';
import { silentProgress } from '../../src/util/progress.js';
import { packTar, type TarEntry } from '../../src/util/tar.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { tarEntries } from '../helpers/tar.js';

const entries: TarEntry[] = [
  { type: 'file', path: '/nabla/nabla-run', mode: 0o755, data: Buffer.from('tender') },
  { type: 'file', path: '/nabla/rootfs.tar', mode: 0o644, data: Buffer.from('rootfs') },
  { type: 'symlink', path: '/nabla/app', target: 'nabla-run' },
  { type: 'file', path: '/etc/nabla/app.json', mode: 0o600, data: Buffer.from('{}') },
];

function spec(overrides: Partial<ImageSpec> = {}): ImageSpec {
  return {
    entries,
    config: {
      entrypoint: ['/nabla/nabla-run', '/nabla/app.nabla'],
      cmd: [],
      env: ['PATH=/nabla'],
      workingDir: '/nabla',
      exposedPorts: ['8080/tcp'],
      labels: { 'dev.nabla.toolchain': 'c', 'dev.nabla.app': 'hello' },
    },
    sourceDateEpoch: 1_700_000_000,
    ...overrides,
  };
}

interface ReadEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkname: string | null;
  data: string;
}

async function readTar(tar: Buffer): Promise<ReadEntry[]> {
  return (await tarEntries(tar)).map(({ header: h, data }) => ({
    name: h.name,
    type: h.type ?? '',
    mode: h.mode ?? -1,
    uid: h.uid ?? -1,
    gid: h.gid ?? -1,
    uname: h.uname ?? '',
    gname: h.gname ?? '',
    mtime: (h.mtime?.getTime() ?? -1) / 1000,
    linkname: h.linkname ?? null,
    data: data.toString(),
  }));
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-image-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

const json = (data: Buffer) => JSON.parse(data.toString('utf8'));
const ref = (registry: string | undefined, repository: string, tag: string): ImageReference => ({ registry, repository, tag });
/** The publishers of `outputs`, with an engine that is never there and no docker login. */
const publishersFor = (outputs: OutputSpec[], tags: ImageReference[]) =>
  createPublishers(outputs, tags, { engine: async () => new FakeEngine(), registry: { dockerConfig: path.join(tempDir(), 'none.json'), certsDirs: [] } });

describe('packTar', () => {
  it('gives the same bytes for the same entries, in any order', async () => {
    const a = await packTar(entries, 42);
    expect((await packTar(entries, 42)).equals(a)).toBe(true);
    expect((await packTar([...entries].reverse(), 42)).equals(a)).toBe(true);
  });

  it('sorts by path, adds parent folders, fixes owner and mtime, strips the leading /', async () => {
    const list = await readTar(await packTar(entries, 42));
    expect(list.map((e) => `${e.type} ${e.name} ${e.mode.toString(8)}`)).toEqual([
      'directory etc/ 755',
      'directory etc/nabla/ 755',
      'file etc/nabla/app.json 600',
      'directory nabla/ 755',
      'symlink nabla/app 777',
      'file nabla/nabla-run 755',
      'file nabla/rootfs.tar 644',
    ]);
    for (const e of list) expect([e.uid, e.gid, e.uname, e.gname, e.mtime]).toEqual([0, 0, '', '', 42]);
    expect(list.find((e) => e.name === 'nabla/app')!.linkname).toBe('nabla-run');
    expect(list.find((e) => e.name === 'nabla/nabla-run')!.data).toBe('tender');
  });

  it('keeps the mode of a folder given explicitly, wherever it comes in the list', async () => {
    const list = await readTar(
      await packTar([...entries, { type: 'directory', path: '/nabla', mode: 0o700 }], 0),
    );
    expect(list.find((e) => e.name === 'nabla/')!.mode).toBe(0o700);
  });

  it('writes no pax headers for ordinary paths', async () => {
    const types = (await readTar(await packTar(entries, 0))).map((e) => e.type);
    expect(types.filter((t) => t.startsWith('pax'))).toEqual([]);
  });

  it.each([
    ['a duplicate path', [entries[0]!, { ...entries[0]!, path: 'nabla/nabla-run' }], /duplicate path/],
    ['a path with ..', [{ type: 'file', path: '/nabla/../etc/passwd', mode: 0o644, data: Buffer.alloc(0) }], /bad path/],
    ['a path below a file', [entries[0]!, { type: 'file', path: '/nabla/nabla-run/x', mode: 0o644, data: Buffer.alloc(0) }], /is a file/],
    ['a path below a symlink', [entries[2]!, { type: 'file', path: '/nabla/app/x', mode: 0o644, data: Buffer.alloc(0) }], /is a symlink/],
  ] as [string, TarEntry[], RegExp][])('rejects %s', async (_name, bad, message) => {
    await expect(packTar(bad, 0)).rejects.toThrow(message);
  });
});

describe('buildImage', () => {
  it('gives the same digests for the same spec, in any entry order', async () => {
    const a = await buildImage(spec());
    const b = await buildImage(spec({ entries: [...entries].reverse() }));
    expect(b.manifest.digest).toBe(a.manifest.digest);
    expect(b.manifest.data.equals(a.manifest.data)).toBe(true);
    expect(b.layers[0]!.data.equals(a.layers[0]!.data)).toBe(true);
  });

  it('changes the digest with SOURCE_DATE_EPOCH', async () => {
    const a = await buildImage(spec());
    const b = await buildImage(spec({ sourceDateEpoch: 1_700_000_001 }));
    expect(b.manifest.digest).not.toBe(a.manifest.digest);
    expect(b.layers[0]!.diffId).not.toBe(a.layers[0]!.diffId);
  });

  it('does not depend on the order of labels', async () => {
    const a = await buildImage(spec());
    const b = await buildImage(spec({ config: { ...spec().config, labels: { 'dev.nabla.app': 'hello', 'dev.nabla.toolchain': 'c' } } }));
    expect(b.config.digest).toBe(a.config.digest);
  });

  it('writes the OCI config and manifest, compact and with digests that match', async () => {
    const image = await buildImage(spec());
    const [layer] = image.layers;
    expect(image.config.data.toString()).not.toMatch(/\s/);
    expect(json(image.config.data)).toEqual({
      created: '2023-11-14T22:13:20Z',
      architecture: 'amd64',
      os: 'linux',
      config: {
        Entrypoint: ['/nabla/nabla-run', '/nabla/app.nabla'],
        Env: ['PATH=/nabla'],
        WorkingDir: '/nabla',
        ExposedPorts: { '8080/tcp': {} },
        Labels: { 'dev.nabla.app': 'hello', 'dev.nabla.toolchain': 'c' },
      },
      rootfs: { type: 'layers', diff_ids: [layer!.diffId] },
      history: [{ created: '2023-11-14T22:13:20Z', created_by: 'nabla-build' }],
    });
    expect(json(image.manifest.data)).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: image.config.digest, size: image.config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer!.digest, size: layer!.size }],
    });
    for (const blob of [image.manifest, image.config, layer!]) {
      expect(blob.digest).toBe(sha256Digest(blob.data));
      expect(blob.size).toBe(blob.data.length);
    }
    expect(gunzipSync(layer!.data).equals(layer!.uncompressed)).toBe(true);
    expect(layer!.diffId).toBe(sha256Digest(layer!.uncompressed));
  });

  it('adds Cmd only when given and leaves out ExposedPorts when empty', async () => {
    const image = await buildImage(spec({ config: { ...spec().config, cmd: ['--port', '8080'], exposedPorts: [] } }));
    const { config } = json(image.config.data);
    expect(config.Cmd).toEqual(['--port', '8080']);
    expect(config).not.toHaveProperty('ExposedPorts');
  });
});

describe('file outputs', () => {
  let image: ImageArtifact;
  beforeAll(async () => {
    image = await buildImage(spec());
  });
  const publish = async (output: OutputSpec, tags: ImageReference[] = []) => {
    const [publisher] = publishersFor([output], tags);
    await publisher!.preflight?.();
    return publisher!.publish(image, silentProgress);
  };

  it('type=oci writes an OCI layout folder with the tags as ref names', async () => {
    const dest = path.join(tempDir(), 'layout');
    expect(await publish({ type: 'oci', dest, format: 'layout' }, [ref('127.0.0.1:5000', 'a', '1.0'), ref(undefined, 'a', 'latest')])).toBe(dest);
    expect(json(fs.readFileSync(path.join(dest, 'oci-layout')))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = json(fs.readFileSync(path.join(dest, 'index.json')));
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['1.0', 'latest']);
    for (const m of index.manifests) expect(m).toMatchObject({ digest: image.manifest.digest, size: image.manifest.size });
    expect(fs.readdirSync(path.join(dest, 'blobs', 'sha256')).sort()).toEqual(
      [image.manifest, image.config, ...image.layers].map((b) => b.digest.slice(7)).sort(),
    );
    for (const blob of [image.manifest, image.config, ...image.layers]) {
      expect(sha256Digest(fs.readFileSync(path.join(dest, 'blobs', 'sha256', blob.digest.slice(7))))).toBe(blob.digest);
    }
  });

  it('type=oci without a tag writes one unannotated manifest', async () => {
    const dest = path.join(tempDir(), 'layout');
    await publish({ type: 'oci', dest, format: 'layout' });
    expect(json(fs.readFileSync(path.join(dest, 'index.json'))).manifests).toEqual([
      { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size },
    ]);
  });

  it('type=oci with a .tar dest writes the same layout as one tar, the same bytes each time', async () => {
    const dest = path.join(tempDir(), 'image.tar');
    await publish({ type: 'oci', dest, format: 'tar' }, [ref(undefined, 'a', '1')]);
    const first = fs.readFileSync(dest);
    await publish({ type: 'oci', dest, format: 'tar' }, [ref(undefined, 'a', '1')]);
    expect(fs.readFileSync(dest).equals(first)).toBe(true);
    const names = (await readTar(first)).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['oci-layout', 'index.json', `blobs/sha256/${image.manifest.digest.slice(7)}`]));
  });

  it('type=docker writes a docker save archive', async () => {
    const dest = path.join(tempDir(), 'docker.tar');
    await publish({ type: 'docker', dest }, [ref(undefined, 'hello', '1'), ref('127.0.0.1:5000', 'team/hello', 'latest')]);
    const files = new Map((await readTar(fs.readFileSync(dest))).map((e) => [e.name, e]));
    const layerFile = `${image.layers[0]!.diffId.slice(7)}/layer.tar`;
    expect(JSON.parse(files.get('manifest.json')!.data)).toEqual([
      { Config: `${image.config.digest.slice(7)}.json`, RepoTags: ['hello:1', '127.0.0.1:5000/team/hello:latest'], Layers: [layerFile] },
    ]);
    expect(files.get(`${image.config.digest.slice(7)}.json`)!.data).toBe(image.config.data.toString());
    expect(files.has(layerFile)).toBe(true);
  });

  it('type=dir unpacks files, folders and symlinks with their modes and mtimes', async () => {
    const dest = path.join(tempDir(), 'rootfs');
    await publish({ type: 'dir', dest });
    const mode = (p: string) => (fs.lstatSync(path.join(dest, p)).mode & 0o7777).toString(8);
    expect(fs.readFileSync(path.join(dest, 'nabla/nabla-run'), 'utf8')).toBe('tender');
    expect([mode('nabla/nabla-run'), mode('nabla/rootfs.tar'), mode('etc/nabla/app.json'), mode('etc/nabla')]).toEqual(['755', '644', '600', '755']);
    expect(fs.readlinkSync(path.join(dest, 'nabla/app'))).toBe('nabla-run');
    expect(fs.statSync(path.join(dest, 'nabla')).mtimeMs).toBe(1_700_000_000_000);
    expect(fs.statSync(path.join(dest, 'nabla/nabla-run')).mtimeMs).toBe(1_700_000_000_000);
  });

  it('replaces an existing folder and leaves no temporary files', async () => {
    const parent = tempDir();
    const dest = path.join(parent, 'rootfs');
    fs.mkdirSync(dest);
    fs.writeFileSync(path.join(dest, 'stale'), 'old');
    await publish({ type: 'dir', dest });
    expect(fs.existsSync(path.join(dest, 'stale'))).toBe(false);
    expect(fs.readdirSync(parent)).toEqual(['rootfs']);
  });

  it('leaves nothing behind, and an earlier output untouched, when writing fails', async () => {
    const parent = tempDir();
    const dest = path.join(parent, 'rootfs');
    fs.mkdirSync(dest);
    fs.writeFileSync(path.join(dest, 'earlier'), 'kept');
    // A layer no packTar would write: the unpacker refuses it halfway through.
    const evil = pack();
    evil.entry({ name: 'ok', mode: 0o644 }, 'fine');
    evil.entry({ name: '../escape', mode: 0o644 }, 'bad');
    evil.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of evil) chunks.push(chunk as Buffer);
    const broken: ImageArtifact = { ...image, layers: [{ ...image.layers[0]!, uncompressed: Buffer.concat(chunks) }] };
    const [publisher] = publishersFor([{ type: 'dir', dest }], []);
    const error = await publisher!.publish(broken, silentProgress).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).message).toMatch(/writing .*rootfs failed: unsafe path/);
    expect(fs.readdirSync(parent)).toEqual(['rootfs']);
    expect(fs.readdirSync(dest)).toEqual(['earlier']);
    expect(fs.existsSync(path.join(parent, 'escape'))).toBe(false);
  });
});

describe('preflight', () => {
  const preflight = (output: OutputSpec) =>
    publishersFor([output], [])[0]!.preflight!().then(
      () => undefined,
      (e: unknown) => e as OutputError,
    );

  it('names the path, the field and a fix when the parent folder is missing', async () => {
    const dest = path.join(tempDir(), 'missing', 'image.tar');
    const error = await preflight({ type: 'oci', dest, format: 'tar' });
    expect(error).toBeInstanceOf(OutputError);
    expect(error).toMatchObject({ file: dest, field: '--output' });
    expect(error!.message).toMatch(/folder .*missing does not exist/);
    expect(error!.hint).toMatch(/mkdir -p/);
  });

  it('refuses a folder that takes no files', async () => {
    const error = await preflight({ type: 'docker', dest: '/proc/nabla-out.tar' });
    expect(error).toMatchObject({ file: '/proc/nabla-out.tar', field: '--output' });
    expect(error!.message).toMatch(/\/proc does not take new files/);
  });

  it.skipIf(process.getuid?.() === 0)('refuses a read-only folder (as a user other than root)', async () => {
    const parent = tempDir();
    fs.chmodSync(parent, 0o555);
    const error = await preflight({ type: 'dir', dest: path.join(parent, 'out') });
    fs.chmodSync(parent, 0o755);
    expect(error!.message).toMatch(/does not take new files/);
  });

  it('refuses a parent that is a file, and a dest of the wrong kind', async () => {
    const parent = tempDir();
    fs.writeFileSync(path.join(parent, 'file'), '');
    expect((await preflight({ type: 'dir', dest: path.join(parent, 'file', 'out') }))!.message).toMatch(/is not a folder/);
    expect((await preflight({ type: 'dir', dest: path.join(parent, 'file') }))!.message).toMatch(/exists and is not a folder/);
    expect((await preflight({ type: 'docker', dest: parent }))!.message).toMatch(/it is a folder/);
  });

  it('leaves no probe file behind', async () => {
    const parent = tempDir();
    expect(await preflight({ type: 'oci', dest: path.join(parent, 'x'), format: 'layout' })).toBeUndefined();
    expect(fs.readdirSync(parent)).toEqual([]);
  });
});

describe('push (against an in-process fake registry)', () => {
  interface Call {
    method: string;
    url: string;
    authorization?: string;
    contentType?: string;
    accept?: string;
  }
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /**
   * A registry keeping blobs and manifests (with their media types) in memory; `gate` may answer
   * a call first; `referrersApi`: it answers a manifest with a subject with OCI-Subject, as one
   * that lists referrers itself does.
   */
  async function fakeRegistry(options: {
    gate?: (req: http.IncomingMessage, res: http.ServerResponse, self: string) => boolean;
    digestHeader?: (body: Buffer) => string;
    referrersApi?: boolean;
  } = {}) {
    const calls: Call[] = [];
    const blobs = new Map<string, Buffer>();
    const manifests = new Map<string, Buffer>();
    const mediaTypes = new Map<string, string>();
    server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const self = `127.0.0.1:${(server!.address() as AddressInfo).port}`;
      calls.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, contentType: req.headers['content-type'], accept: req.headers.accept });
      if (options.gate?.(req, res, self)) return;
      const url = new URL(req.url!, `http://${self}`);
      const blob = /^\/v2\/(.+)\/blobs\/(sha256:\w+)$/.exec(url.pathname);
      const manifest = /^\/v2\/(.+)\/manifests\/([\w.:-]+)$/.exec(url.pathname);
      if (url.pathname === '/v2/') res.writeHead(200).end('{}');
      else if (req.method === 'HEAD' && blob) res.writeHead(blobs.has(blob[2]!) ? 200 : 404).end();
      // An absolute Location with a query of its own, as distribution writes it.
      else if (req.method === 'POST') res.writeHead(202, { Location: `http://${self}/v2/upload/u1?_state=a%2Bb%3D` }).end();
      else if (req.method === 'PUT' && url.pathname === '/v2/upload/u1') {
        expect(url.searchParams.get('_state')).toBe('a+b=');
        blobs.set(url.searchParams.get('digest')!, body);
        res.writeHead(201).end();
      } else if (req.method === 'PUT' && manifest) {
        manifests.set(manifest[2]!, body);
        mediaTypes.set(manifest[2]!, req.headers['content-type']!);
        const subject = (JSON.parse(body.toString()) as { subject?: { digest: string } }).subject;
        res.writeHead(201, {
          'Docker-Content-Digest': options.digestHeader?.(body) ?? sha256Digest(body),
          ...(options.referrersApi && subject ? { 'OCI-Subject': subject.digest } : {}),
        }).end();
      } else if (req.method === 'GET' && manifest) {
        const found = manifests.get(manifest[2]!);
        if (found) res.writeHead(200, { 'Content-Type': mediaTypes.get(manifest[2]!) }).end(found);
        else res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      } else res.writeHead(400).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const seed = (reference: string, mediaType: string, body: object) => {
      manifests.set(reference, Buffer.from(JSON.stringify(body)));
      mediaTypes.set(reference, mediaType);
    };
    return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, calls, blobs, manifests, seed };
  }

  const push = async (tag: RegistryReference, dockerConfig?: string) => {
    const image = await buildImage(spec());
    const publisher = new PushPublisher(tag, { dockerConfig: dockerConfig ?? path.join(tempDir(), 'none.json'), certsDirs: [] });
    await publisher.preflight();
    return { image, result: await publisher.publish(image) };
  };
  const target = (registry: string, repository: string, tag: string): RegistryReference => ({ registry, repository, tag });

  it('uploads missing blobs, then the manifest under the tag, and returns name@digest', async () => {
    const registry = await fakeRegistry();
    const { image, result } = await push(target(registry.host, 'team/hello', '1.0'));
    expect(result).toBe(`${registry.host}/team/hello:1.0@${image.manifest.digest}`);
    expect(registry.blobs.get(image.config.digest)!.equals(image.config.data)).toBe(true);
    expect(registry.blobs.get(image.layers[0]!.digest)!.equals(image.layers[0]!.data)).toBe(true);
    expect(registry.manifests.get('1.0')!.equals(image.manifest.data)).toBe(true);
    expect(registry.calls.find((c) => c.url.endsWith('/manifests/1.0'))!.contentType).toBe(image.manifest.mediaType);

    // Pushed again: the blobs are there, only the manifest goes up.
    const before = registry.calls.length;
    await push(target(registry.host, 'team/hello', '1.0'));
    expect(registry.calls.slice(before).map((c) => c.method)).toEqual(['GET', 'HEAD', 'HEAD', 'PUT']);
  });

  it('answers a Bearer challenge with a token fetched with the docker login credentials', async () => {
    const registry = await fakeRegistry({
      gate(req, res, self) {
        if (req.url!.startsWith('/token')) {
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: 'T0K' }));
          return true;
        }
        if (req.url !== '/v2/' && req.headers.authorization !== 'Bearer T0K') {
          res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${self}/token",service="fake",scope="repository:team/hello:pull"` }).end();
          return true;
        }
        return false;
      },
    });
    const config = path.join(tempDir(), 'config.json');
    fs.writeFileSync(config, JSON.stringify({ auths: { [registry.host]: { auth: 'dXNlcjpwdw==' } } }));
    const { image } = await push(target(registry.host, 'team/hello', '1'), config);
    const tokenCalls = registry.calls.filter((c) => c.url.startsWith('/token'));
    expect(tokenCalls).toHaveLength(1); // one token with push rights serves the whole push
    const tokenUrl = new URL(tokenCalls[0]!.url, 'http://x');
    expect(tokenUrl.searchParams.get('service')).toBe('fake');
    // The challenge's pull scope is covered by the push scope: one scope asked.
    expect(tokenUrl.searchParams.getAll('scope')).toEqual(['repository:team/hello:pull,push']);
    expect(tokenCalls[0]!.authorization).toBe('Basic dXNlcjpwdw==');
    expect(registry.manifests.get('1')!.equals(image.manifest.data)).toBe(true);
  });

  it('answers a Basic challenge with the stored credentials', async () => {
    const registry = await fakeRegistry({
      gate(req, res) {
        if (req.url === '/v2/' || req.headers.authorization === 'Basic dXNlcjpwdw==') return false;
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="fake"' }).end();
        return true;
      },
    });
    const config = path.join(tempDir(), 'config.json');
    fs.writeFileSync(config, JSON.stringify({ auths: { [`https://${registry.host}`]: { auth: 'dXNlcjpwdw==' } } }));
    await push(target(registry.host, 'team/hello', '1'), config);
    expect(registry.manifests.has('1')).toBe(true);
  });

  it('turns a refused push into an OutputError with the status, the registry message and a hint', async () => {
    const registry = await fakeRegistry({
      gate(req, res) {
        if (req.method !== 'POST') return false;
        res.writeHead(403, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }));
        return true;
      },
    });
    const error = await push(target(registry.host, 'team/hello', '1')).then(
      () => undefined,
      (e: unknown) => e as OutputError,
    );
    expect(error).toBeInstanceOf(OutputError);
    expect(error!.message).toContain(`registry ${registry.host} refused the push (HTTP 403 while starting a blob upload)`);
    expect(error!.message).toContain('requested access to the resource is denied');
    expect(error!.hint).toMatch(/docker login/);
  });

  it('asks a second repository of the same registry to mount the blobs the first one got', async () => {
    const registry = await fakeRegistry();
    const names = [target(registry.host, 'team/a', '1'), target(registry.host, 'team/b', '1')];
    const image = await buildImage(spec());
    const [first, second] = publishersFor([{ type: 'push', targets: names }], names);
    await first!.publish(image, silentProgress);
    registry.blobs.clear(); // this fake keeps blobs registry-wide: make team/b miss them, as a real registry would
    await second!.publish(image, silentProgress);
    const posts = registry.calls.filter((c) => c.method === 'POST').map((c) => decodeURIComponent(c.url));
    expect(posts).toEqual([
      '/v2/team/a/blobs/uploads/',
      '/v2/team/a/blobs/uploads/',
      `/v2/team/b/blobs/uploads/?mount=${image.layers[0]!.digest}&from=team/a`,
      `/v2/team/b/blobs/uploads/?mount=${image.config.digest}&from=team/a`,
    ]);
    // This fake cannot mount: it opens an upload instead, and the blob goes up into it.
    expect(registry.blobs.get(image.config.digest)!.equals(image.config.data)).toBe(true);
  });

  it('leaves no tag when a blob cannot be uploaded: the manifest goes last', async () => {
    const registry = await fakeRegistry({
      gate(req, res) {
        if (req.method !== 'PUT' || !req.url!.startsWith('/v2/upload/')) return false;
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]}');
        return true;
      },
    });
    await expect(push(target(registry.host, 'team/hello', '1'))).rejects.toThrow(/HTTP 400 while uploading blob sha256:\w+\): DIGEST_INVALID/);
    expect(registry.manifests.size).toBe(0);
    expect(registry.calls.some((c) => c.url.includes('/manifests/'))).toBe(false);
  });

  it('refuses a manifest the registry stored under another digest', async () => {
    const registry = await fakeRegistry({ digestHeader: () => `sha256:${'0'.repeat(64)}` });
    await expect(push(target(registry.host, 'team/hello', '1'))).rejects.toThrow(/stored the manifest as sha256:0+, not sha256:/);
  });

  describe('the SBOM and the referrers tag', () => {
    const INDEX = 'application/vnd.oci.image.index.v1+json';
    const CDX = 'application/vnd.cyclonedx+json';
    const withSbom = async () => attach(await buildImage(spec()), CDX, Buffer.from('{"bomFormat":"CycloneDX"}'), {});
    const pushImage = async (registry: { host: string }, image: ImageArtifact) =>
      new PushPublisher(target(registry.host, 'team/hello', '1'), { dockerConfig: path.join(tempDir(), 'none.json'), certsDirs: [] }).publish(image);
    const signature = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'5'.repeat(64)}`, size: 701, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' };
    const earlierOurs = { ...signature, digest: `sha256:${'7'.repeat(64)}`, artifactType: CDX, annotations: { 'dev.nabla.artifact': 'sbom' } };

    it('reads the index another tool put under sha256-<hex>, keeps its referrers, replaces our earlier SBOM, then tags', async () => {
      const registry = await fakeRegistry();
      const image = await withSbom();
      const tag = image.manifest.digest.replace(':', '-');
      registry.seed(tag, INDEX, { schemaVersion: 2, mediaType: INDEX, manifests: [signature, earlierOurs] });
      await pushImage(registry, image);
      const index = JSON.parse(registry.manifests.get(tag)!.toString());
      expect(index.manifests).toEqual([signature, referrerDescriptor(image.sbom!)]);
      const manifestCalls = registry.calls.filter((c) => c.url.includes('/manifests/')).map((c) => `${c.method} ${c.url.replace(/^.*\/manifests\//, '')}`);
      expect(manifestCalls).toEqual([
        `PUT ${image.manifest.digest}`,
        `PUT ${image.sbom!.manifest.digest}`,
        `GET ${tag}`,
        `PUT ${tag}`,
        'PUT 1',
      ]);
      expect(registry.calls.find((c) => c.method === 'GET' && c.url.endsWith(tag))!.accept).toContain(INDEX);
    });

    it('starts a new index when the tag is not there', async () => {
      const registry = await fakeRegistry();
      const image = await withSbom();
      await pushImage(registry, image);
      const index = JSON.parse(registry.manifests.get(image.manifest.digest.replace(':', '-'))!.toString());
      expect(index).toEqual({ schemaVersion: 2, mediaType: INDEX, manifests: [referrerDescriptor(image.sbom!)] });
    });

    it('writes no tag when the registry answers OCI-Subject: it lists the referrers itself', async () => {
      const registry = await fakeRegistry({ referrersApi: true });
      const image = await withSbom();
      await pushImage(registry, image);
      expect([...registry.manifests.keys()]).toEqual([image.manifest.digest, image.sbom!.manifest.digest, '1']);
      expect(registry.calls.some((c) => c.method === 'GET' && c.url.includes('/manifests/'))).toBe(false);
    });

    it('refuses to overwrite a tag of that name that holds something else, and leaves the image untagged', async () => {
      const registry = await fakeRegistry();
      const image = await withSbom();
      const tag = image.manifest.digest.replace(':', '-');
      const someImage = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: signature, layers: [] };
      registry.seed(tag, someImage.mediaType, someImage);
      const error = (await pushImage(registry, image).catch((e: unknown) => e)) as OutputError;
      expect(error).toBeInstanceOf(OutputError);
      expect(error.message).toBe(
        `registry ${registry.host}: the referrers tag ${tag} of team/hello is not a referrers index: it holds a application/vnd.oci.image.manifest.v1+json, not an image index`,
      );
      expect(error.hint).toMatch(/nabla-build does not overwrite what else was put there/);
      expect(JSON.parse(registry.manifests.get(tag)!.toString())).toEqual(someImage);
      expect(registry.manifests.has('1')).toBe(false);
    });
  });

  it('says when the registry is not there, before the build', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const error = await new PushPublisher(target(host, 'team/hello', '1'), { dockerConfig: path.join(tempDir(), 'none.json'), certsDirs: [] })
      .preflight()
      .catch((e: unknown) => e as OutputError);
    expect(error).toBeInstanceOf(OutputError);
    expect(error!.message).toContain(`cannot reach registry ${host}: ECONNREFUSED`);
    expect(error!.hint).toMatch(/is the registry running\?/);
  });

  it('makes one publisher per name, and runs before load and file outputs', () => {
    const names = [target('127.0.0.1:5000', 'a', '1'), target('127.0.0.1:5000', 'a', '2')];
    const publishers = publishersFor([{ type: 'dir', dest: '/x' }, { type: 'load' }, { type: 'push', targets: names }], names);
    expect(publishers.map((p) => p.description)).toEqual(['push 127.0.0.1:5000/a:1', 'push 127.0.0.1:5000/a:2', 'load into Docker', 'files → /x']);
  });
});

describe('--load (with a fake engine)', () => {
  /** An engine whose load leaves the image under `repoTags`, or fails with the daemon's `error`. */
  function engineLoading(repoTags: string[], error?: string): FakeEngine {
    const engine = new FakeEngine();
    engine.onLoad = () => void engine.addImage(image.config.digest, repoTags);
    if (error) engine.failures.set('load', error);
    return engine;
  }
  let image: ImageArtifact;
  beforeAll(async () => {
    image = await buildImage(spec());
  });
  const load = (engine: FakeEngine, tags: string[]): Publisher => new LoadPublisher(async () => engine, tags);

  it('loads the docker archive and checks the engine has the image and its tags', async () => {
    const engine = engineLoading(['hello:1']);
    expect(await load(engine, ['hello:1']).publish(image, silentProgress)).toBe('hello:1');
    const names = (await readTar(engine.loaded[0]!)).map((e) => e.name);
    expect(names).toContain('manifest.json');
  });

  it("turns the daemon's error into an OutputError with a fix", async () => {
    const engine = engineLoading(['hello:1'], 'no space left on device');
    const error = await load(engine, ['hello:1']).publish(image, silentProgress).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).message).toBe('docker load failed: no space left on device');
    expect((error as OutputError).hint).toMatch(/free disk space/);
  });

  it('fails when the engine did not tag the image, or does not have it', async () => {
    await expect(load(engineLoading([]), ['docker.io/library/hello:1']).publish(image, silentProgress)).rejects.toThrow(
      /not tagged docker\.io\/library\/hello:1/,
    );
    await expect(load(new FakeEngine(), ['hello:1']).publish(image, silentProgress)).rejects.toThrow(/has no image sha256:.* after loading it/);
  });
});

// Found by test/fuzz/ts/image-read: each was a TypeError or SyntaxError ("internal error").
describe('inspect of a broken image: one ConfigError naming what is wrong', () => {
  async function layout(change: (files: Map<string, Buffer>, digests: { manifest: string; config: string; layer: string }) => void): Promise<string> {
    const image = await buildImage({
      entries: [{ type: 'file', path: '/a', mode: 0o644, data: Buffer.from('a') }],
      config: { entrypoint: ['/a'], cmd: [], env: [], workingDir: '/', exposedPorts: [], labels: {} },
      sourceDateEpoch: 0,
    });
    const blob = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
    const files = new Map<string, Buffer>([
      ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
      ['index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: image.manifest.digest }] }))],
      [blob(image.manifest.digest), image.manifest.data],
      [blob(image.config.digest), image.config.data],
      [blob(image.layers[0]!.digest), image.layers[0]!.data],
    ]);
    change(files, { manifest: blob(image.manifest.digest), config: blob(image.config.digest), layer: blob(image.layers[0]!.digest) });
    const dir = tempDir();
    for (const [name, data] of files) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), data);
    }
    return dir;
  }

  it.each<[string, (files: Map<string, Buffer>, d: { manifest: string; config: string; layer: string }) => void, RegExp]>([
    ['index.json is not JSON', (f) => f.set('index.json', Buffer.from('{')), /index\.json is not valid JSON/],
    ['index.json names no manifest', (f) => f.set('index.json', Buffer.from('{"manifests":[]}')), /index\.json: field "manifests": must name the image manifest/],
    ['a digest is a number', (f) => f.set('index.json', Buffer.from('{"manifests":[{"digest":7}]}')), /field "manifests\.0\.digest"/],
    ['the layer blob is missing', (f, d) => f.delete(d.layer), /the image is incomplete: blobs\/sha256\/[0-9a-f]+ is missing/],
    ['the layer is not gzip', (f, d) => f.set(d.layer, Buffer.from('no gzip\n')), /layer blobs\/sha256\/[0-9a-f]+ is not a gzipped tar: /],
    ['Env is a string', (f, d) => f.set(d.config, Buffer.from('{"config":{"Env":"A=1"}}')), /field "config\.Env": Expected array/],
  ])('%s', async (_name, change, message) => {
    const error = await readImage(await layout(change)).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('a gzip bomb: the layer is read only up to the limit, then one message', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 2 ** 20)); // 8 MiB of zeros in about 8 KiB
    const dir = await layout((f, d) => f.set(d.layer, bomb));
    const error = await readImage(dir, { layerUnpacked: 2 ** 20 }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/layer blobs\/sha256\/[0-9a-f]+ unpacks to more than 1048576 bytes \(a gzip bomb\?\): not read on$/);
    // Under the limit it is read to the end (zeros are an empty tar): the limit alone stopped it above.
    expect((await readImage(dir, { layerUnpacked: 16 * 2 ** 20 })).layers[0]!.files).toEqual([]);
  });

  it('a docker archive whose manifest.json lists no object, and a file that is no tar', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'manifest.json'), '[0]');
    await expect(readImage(dir)).rejects.toThrow(/manifest\.json: field "0": Expected object/);
    fs.writeFileSync(path.join(dir, 'x.tar'), Buffer.alloc(1024, 1));
    await expect(readImage(path.join(dir, 'x.tar'))).rejects.toThrow(ConfigError);
  });

  it("Docker's nulls read as absent fields", async () => {
    const dir = await layout((f, d) => f.set(d.config, Buffer.from('{"os":"linux","config":{"Env":null,"Labels":null,"Entrypoint":null}}')));
    expect((await readImage(dir)).config).toEqual({ os: 'linux', config: {} });
  });
});
