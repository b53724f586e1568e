/**
 * A real registry (Debian's docker-registry) on 127.0.0.1 for push tests, started per test
 * file: plain, read-only, behind htpasswd, behind a token server, over TLS; and its API
 * called directly, as other tools call it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { tempDir } from './cli.js';
import { freePort } from './loopback.js';

export interface Registry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  /** What the registry logged so far (warnings and errors). */
  log(): string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  readOnly?: boolean;
  /** An htpasswd file (bcrypt entries): Basic auth. */
  htpasswd?: string;
  /** Bearer auth: tokens from `realm`, signed by a key whose certificate is in `rootCertBundle`. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Serve TLS with this certificate and key (PEM files). */
  tls?: { certificate: string; key: string };
  port?: number;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const dir = tempDir('nabla-registry-');
  const port = options.port ?? (await freePort());
  const config = path.join(dir, 'config.yml');
  const { token, tls } = options;
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      'storage:',
      `  filesystem: { rootdirectory: ${path.join(dir, 'data')} }`,
      ...(options.readOnly ? ['  maintenance: { readonly: { enabled: true } }'] : []),
      ...(options.htpasswd ? ['auth:', `  htpasswd: { realm: nabla-test, path: ${options.htpasswd} }`] : []),
      ...(token
        ? ['auth:', `  token: { realm: "${token.realm}", service: ${token.service}, issuer: ${token.issuer}, rootcertbundle: ${token.rootCertBundle} }`]
        : []),
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...(tls ? [`  tls: { certificate: ${tls.certificate}, key: ${tls.key} }`] : []),
      '',
    ].join('\n'),
  );
  const child: ResultPromise = execa('docker-registry', ['serve', config], { reject: false, all: true, buffer: true });
  let output = '';
  child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (!(await listening(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill();
      await child;
      throw new Error(`docker-registry did not start: ${output.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    log: () => output,
    async stop() {
      child.kill();
      await child;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export interface RegistryApiOptions {
  /** The CA to trust (PEM): the registry speaks TLS. Without it, plain http. */
  ca?: string;
  /** Basic credentials, sent with every call (an htpasswd registry takes them so). */
  username?: string;
  password?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  [field: string]: unknown;
}

/**
 * The distribution API called directly, as another tool (cosign, oras) would: to put in place
 * what a push must find there, and to read what the registry serves (the referrers API).
 */
export function registryApi(host: string, options: RegistryApiOptions = {}) {
  const origin = `${options.ca ? 'https' : 'http'}://${host}`;
  const auth = options.username ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}` : undefined;
  const call = (method: string, target: string, headers: Record<string, string> = {}, body?: Buffer) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const url = new URL(target, origin);
      const all = { ...headers, ...(auth ? { Authorization: auth } : {}), ...(body ? { 'Content-Length': String(body.length) } : {}) };
      const request = (url.protocol === 'https:' ? https : http).request(url, { method, headers: all, ca: options.ca }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      });
      request.on('error', reject);
      request.end(body);
    });
  const expectStatus = (what: string, status: number, got: { status: number; body: Buffer }) => {
    if (got.status !== status) throw new Error(`${what}: HTTP ${got.status} ${got.body.toString().slice(0, 300)}`);
  };
  const api = {
    get: (target: string, accept?: string) => call('GET', target, accept ? { Accept: accept } : {}),
    async putBlob(repository: string, mediaType: string, data: Buffer): Promise<Descriptor> {
      const digest = `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
      const started = await call('POST', `/v2/${repository}/blobs/uploads/`, {}, Buffer.alloc(0));
      expectStatus(`starting an upload to ${repository}`, 202, started);
      const location = new URL(String(started.headers.location), origin);
      location.searchParams.set('digest', digest);
      expectStatus(`uploading ${digest}`, 201, await call('PUT', location.toString(), { 'Content-Type': 'application/octet-stream' }, data));
      return { mediaType, digest, size: data.length };
    },
    async putManifest(repository: string, reference: string, manifest: { mediaType: string; [field: string]: unknown }): Promise<Descriptor> {
      const data = Buffer.from(JSON.stringify(manifest));
      expectStatus(`putting manifest ${reference}`, 201, await call('PUT', `/v2/${repository}/manifests/${reference}`, { 'Content-Type': manifest.mediaType }, data));
      return { mediaType: manifest.mediaType, digest: `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`, size: data.length };
    },
    /** An OCI 1.1 artifact (the empty config, `document` as its one layer) whose subject is `subject`, by digest. */
    async putArtifact(repository: string, artifact: { artifactType: string; document: Buffer; subject: Descriptor; annotations?: Record<string, string> }) {
      const config = await api.putBlob(repository, 'application/vnd.oci.empty.v1+json', Buffer.from('{}'));
      const layer = await api.putBlob(repository, artifact.artifactType, artifact.document);
      const manifest = {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: artifact.artifactType,
        config,
        layers: [layer],
        subject: artifact.subject,
        ...(artifact.annotations ? { annotations: artifact.annotations } : {}),
      };
      const digest = `sha256:${crypto.createHash('sha256').update(JSON.stringify(manifest)).digest('hex')}`;
      const descriptor = await api.putManifest(repository, digest, manifest);
      return { ...descriptor, artifactType: artifact.artifactType, ...(artifact.annotations ? { annotations: artifact.annotations } : {}) };
    },
  };
  return api;
}
