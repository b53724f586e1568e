/**
 * A small client for the OCI distribution API: blob existence, monolithic blob upload,
 * manifest put. Plain HTTP for loopback registries (as Docker does), HTTPS otherwise;
 * Basic and Bearer auth with credentials from ~/.docker/config.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputError } from '../util/errors.js';

export class RegistryClient {
  private readonly base: string;
  private authorization: string | undefined;

  constructor(
    readonly registry: string,
    private readonly repository: string,
    private readonly credentials: string | undefined = dockerConfigAuth(registry),
  ) {
    const host = registry.replace(/:\d+$/, '');
    const loopback = host === 'localhost' || host === '[::1]' || /^127\./.test(host);
    this.base = `${loopback ? 'http' : 'https'}://${registry}`;
  }

  async hasBlob(digest: string): Promise<boolean> {
    const response = await this.request('HEAD', `/v2/${this.repository}/blobs/${digest}`);
    if (response.status === 404) return false;
    await this.expect(response, [200], `checking blob ${digest.slice(0, 19)}`);
    return true;
  }

  async uploadBlob(digest: string, data: Buffer): Promise<void> {
    const start = await this.request('POST', `/v2/${this.repository}/blobs/uploads/`);
    await this.expect(start, [202], 'starting a blob upload');
    const location = start.headers.get('location');
    if (!location) throw this.refused(start.status, 'starting a blob upload', 'no Location header in the answer');
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const put = await this.request('PUT', url.toString(), data, { 'Content-Type': 'application/octet-stream' });
    await this.expect(put, [201], `uploading blob ${digest.slice(0, 19)}`);
  }

  /** Puts the manifest under `tag` and returns the digest the registry computed. */
  async putManifest(tag: string, mediaType: string, data: Buffer): Promise<string | undefined> {
    const response = await this.request('PUT', `/v2/${this.repository}/manifests/${tag}`, data, { 'Content-Type': mediaType });
    await this.expect(response, [201], `putting manifest ${tag}`);
    return response.headers.get('docker-content-digest') ?? undefined;
  }

  private async request(method: string, pathOrUrl: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const send = () =>
      fetch(url, {
        method,
        body,
        headers: { ...headers, ...(this.authorization ? { Authorization: this.authorization } : {}) },
        redirect: 'follow',
      }).catch((error: unknown) => {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new OutputError(`cannot reach registry ${this.registry}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, {
          field: '--tag',
          hint: 'is the registry running? check the host and port in -t',
          cause: error,
        });
      });
    let response = await send();
    if (response.status === 401 && !this.authorization) {
      this.authorization = await this.authorize(response.headers.get('www-authenticate') ?? '');
      if (this.authorization) response = await send();
    }
    return response;
  }

  /** Answers a 401 challenge: Basic with stored credentials, or a Bearer token from the realm. */
  private async authorize(challenge: string): Promise<string | undefined> {
    const scheme = challenge.split(' ')[0]?.toLowerCase();
    if (scheme === 'basic') return this.credentials ? `Basic ${this.credentials}` : undefined;
    if (scheme !== 'bearer') return undefined;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.repository}:pull,push`);
    const response = await fetch(url, { headers: this.credentials ? { Authorization: `Basic ${this.credentials}` } : {} });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }

  private async expect(response: Response, ok: number[], doing: string): Promise<void> {
    if (ok.includes(response.status)) return;
    throw this.refused(response.status, doing, await registryMessage(response));
  }

  private refused(status: number, doing: string, message: string): OutputError {
    return new OutputError(`registry ${this.registry} refused the push (HTTP ${status} while ${doing}): ${message}`, {
      field: '--push',
      hint:
        status === 401 || status === 403
          ? `log in with \`docker login ${this.registry}\`, or check your rights on ${this.repository}`
          : 'check that the registry accepts pushes (not read-only, enough space) and the name in -t',
    });
  }
}

async function registryMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    if (errors.length > 0) return errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim().slice(0, 200) || response.statusText || 'no message';
}

/** base64 "user:password" for registry from ~/.docker/config.json, if stored there. */
function dockerConfigAuth(registry: string): string | undefined {
  const file = path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
  try {
    const config = JSON.parse(fs.readFileSync(file, 'utf8')) as { auths?: Record<string, { auth?: string }> };
    return config.auths?.[registry]?.auth ?? config.auths?.[`https://${registry}`]?.auth;
  } catch {
    return undefined;
  }
}
