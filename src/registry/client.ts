/**
 * A small client for the OCI distribution API, just what a push needs: blob existence,
 * monolithic blob upload, manifest put. Plain HTTP for loopback registries (as Docker
 * does), HTTPS otherwise; Basic and Bearer auth answered from a 401's challenge.
 */
import fs from 'node:fs';
import { errorMessage, OutputError } from '../util/errors.js';

export class RegistryClient {
  private readonly base: string;
  private authorization: string | undefined;

  /**
   * registry: "host[:port]" as written in the -t name; repository: e.g. "team/app";
   * credentials: base64 "user:password" (a docker config `auth`), for Basic and token requests.
   */
  constructor(
    readonly registry: string,
    private readonly repository: string,
    private readonly credentials?: string,
  ) {
    this.base = registryBaseUrl(registry);
  }

  /** Fails early, with the push's own messages, if the registry does not answer at all. */
  async ping(): Promise<void> {
    const response = await this.send('GET', '/v2/');
    // 401 still proves a registry answers: credentials are settled on the first real call.
    if (response.status === 401) return drain(response);
    await this.expect(response, [200], 'checking the API (/v2/)');
  }

  async hasBlob(digest: string): Promise<boolean> {
    const response = await this.request('HEAD', `/v2/${this.repository}/blobs/${digest}`);
    if (response.status === 404) return false;
    await this.expect(response, [200], `checking blob ${short(digest)}`);
    return true;
  }

  /** POST to open an upload, then one PUT with all the bytes and the digest. */
  async uploadBlob(digest: string, data: Buffer): Promise<void> {
    const start = await this.request('POST', `/v2/${this.repository}/blobs/uploads/`);
    await this.expect(start, [202], 'starting a blob upload');
    const location = start.headers.get('location');
    if (!location) throw this.refused(start.status, 'starting a blob upload', 'the answer has no Location header');
    // Location may be relative or absolute and may carry the registry's own state in its query.
    const url = new URL(location, this.base);
    url.search = `${url.search ? `${url.search}&` : '?'}digest=${encodeURIComponent(digest)}`;
    const put = await this.request('PUT', url.href, data, { 'Content-Type': 'application/octet-stream' });
    await this.expect(put, [201], `uploading blob ${short(digest)}`);
  }

  /** Puts the manifest under `tag`; returns the digest the registry computed, if it said. */
  async putManifest(tag: string, mediaType: string, data: Buffer): Promise<string | undefined> {
    const response = await this.request('PUT', `/v2/${this.repository}/manifests/${tag}`, data, { 'Content-Type': mediaType });
    await this.expect(response, [201], `putting manifest ${tag}`);
    return response.headers.get('docker-content-digest') ?? undefined;
  }

  /** One call, answering a 401 challenge once (a new scope may bring a new challenge later). */
  private async request(method: string, pathOrUrl: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
    const response = await this.send(method, pathOrUrl, body, headers);
    const challenge = response.headers.get('www-authenticate');
    if (response.status !== 401 || !challenge) return response;
    const authorization = await this.authorize(challenge);
    if (authorization === undefined || authorization === this.authorization) return response;
    await drain(response);
    this.authorization = authorization;
    return this.send(method, pathOrUrl, body, headers);
  }

  private async send(method: string, pathOrUrl: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
    const url = new URL(pathOrUrl, this.base);
    const auth: Record<string, string> = this.authorization ? { Authorization: this.authorization } : {};
    try {
      return await fetch(url, { method, body, headers: { ...headers, ...auth } });
    } catch (error) {
      throw this.unreachable(url.origin, error);
    }
  }

  /** The Authorization header answering a challenge, or undefined if we have nothing to offer. */
  private async authorize(challenge: string): Promise<string | undefined> {
    const scheme = challenge.slice(0, challenge.indexOf(' ')).toLowerCase();
    if (scheme === 'basic') return this.credentials ? `Basic ${this.credentials}` : undefined;
    if (scheme !== 'bearer') return undefined;
    const params = challengeParams(challenge);
    if (!params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    // Ask for push rights at once, so one token serves every call of this push.
    const pushScope = `repository:${this.repository}:pull,push`;
    if (params.scope && params.scope !== pushScope) url.searchParams.append('scope', params.scope);
    url.searchParams.append('scope', pushScope);
    let response: Response;
    try {
      response = await fetch(url, { headers: this.credentials ? { Authorization: `Basic ${this.credentials}` } : {} });
    } catch (error) {
      throw this.unreachable(url.origin, error);
    }
    if (response.status !== 200) {
      throw this.refused(response.status, `getting a token from ${url.origin}${url.pathname}`, await registryMessage(response));
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }

  private async expect(response: Response, ok: number[], doing: string): Promise<void> {
    if (ok.includes(response.status)) return drain(response);
    throw this.refused(response.status, doing, await registryMessage(response));
  }

  private refused(status: number, doing: string, message: string): OutputError {
    return new OutputError(`registry ${this.registry} refused the push (HTTP ${status} while ${doing}): ${message}`, {
      field: '--push',
      hint:
        status === 401 || status === 403
          ? `log in with \`docker login ${this.registry}\`, and check that you may push to ${this.repository}`
          : status >= 500
            ? `the registry failed: see its log, and check that it has free space`
            : 'check that the registry accepts pushes (not read-only) and the name in -t',
    });
  }

  private unreachable(origin: string, error: unknown): OutputError {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? errorMessage(error);
    return new OutputError(`cannot reach registry ${this.registry}: ${why} (${origin})`, {
      field: '--push',
      hint:
        "is the registry running? check the tag's registry host and port; " +
        'only localhost, 127.0.0.0/8 and ::1 registries are spoken to over plain http',
      cause: error,
    });
  }
}

/** http for loopback registries (Docker trusts those without TLS), https for the rest. */
function registryBaseUrl(registry: string): string {
  if (registry === 'docker.io' || registry === 'index.docker.io') return 'https://registry-1.docker.io';
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.replace(/:\d+$/, '');
  const loopback = host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return `${loopback ? 'http' : 'https'}://${registry}`;
}

/** The stored `auth` (base64 "user:password") for registry in a docker config.json, if any. */
export function dockerConfigAuth(registry: string, configFile: string): string | undefined {
  let auths: Record<string, { auth?: string }> | undefined;
  try {
    auths = (JSON.parse(fs.readFileSync(configFile, 'utf8')) as { auths?: Record<string, { auth?: string }> }).auths;
  } catch {
    return undefined; // no config, or not JSON: push without credentials, as docker would
  }
  const keys =
    registry === 'docker.io' || registry === 'index.docker.io'
      ? ['https://index.docker.io/v1/']
      : [registry, `https://${registry}`, `http://${registry}`];
  return keys.map((key) => auths?.[key]?.auth).find((auth) => auth);
}

/** `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"` → its params. */
function challengeParams(challenge: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of challenge.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) params[match[1]!.toLowerCase()] = match[2] ?? match[3] ?? '';
  return params;
}

/** The registry's own words: `errors[].message` of its JSON body, else the start of the text. */
async function registryMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    if (errors.length > 0) return errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    // not JSON: the raw text below
  }
  return text.trim().slice(0, 200) || response.statusText || 'no message';
}

/** Reads a body we do not need, so the connection is free for the next call. */
async function drain(response: Response): Promise<void> {
  await response.arrayBuffer().catch(() => undefined);
}

const short = (digest: string) => digest.slice(0, 19);
