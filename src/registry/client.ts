/**
 * A small client for the OCI distribution API, what a push needs: blob existence, blob
 * upload (one PUT for small blobs, PATCH chunks resumed after a failure for big ones,
 * or a mount from another repository of the registry), manifest put, and one read: the
 * manifest under a tag (the referrers tag's index, which a push adds to); and what a pull
 * needs (`operation: 'pull'`, pull scope only): a manifest that must be there, and blobs,
 * following the registry's redirect to its storage. TLS with the CAs
 * the user gave; plain HTTP only for a loopback registry that does not speak TLS (as
 * Docker does). Idempotent calls are retried with backoff on 429, 5xx and broken connections.
 */
import { ConfigError, errorMessage, OutputError } from '../util/errors.js';
import { Authenticator, repositoryScope, TokenRefused, type CredentialLookup } from './auth.js';
import type { Credentials } from './credentials.js';
import { errorCode, httpTransport, isPlainHttpAnswer, type HttpResponse, type TlsOptions, type Transport } from './http.js';
import { defaultRetryPolicy, isRetryableError, isRetryableStatus, retryDelay, type RetryPolicy } from './retry.js';

export interface RegistryClientOptions {
  tls?: TlsOptions;
  /** Blobs larger than this go up in PATCH chunks of this size; smaller ones in one PUT. */
  chunkSize?: number;
  retry?: RetryPolicy;
  /** Told each time a call is tried again, so the user sees why a push pauses. */
  onRetry?: (message: string) => void;
  transport?: Transport;
  /** What the client is for, in its scope and messages: a push (pull,push scope) by default. */
  operation?: 'push' | 'pull';
}

export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

interface Call {
  method: string;
  /** A path on the registry, or an absolute URL it gave us (an upload's Location). */
  target: string | URL;
  doing: string;
  body?: Buffer;
  headers?: Record<string, string>;
  /** Resources the call touches, for a Bearer token; the push scope by default. */
  scopes?: string[];
  /** Try again on 429/5xx and broken connections: only for calls that are safe to repeat. */
  retry: boolean;
  /** The most bytes of answer taken (http.ts's MAX_ANSWER unless given). */
  maxBody?: number;
}

/** Where an upload stands: the URL to send to next and the bytes the registry holds. */
interface UploadSession {
  url: URL;
  offset: number;
}

/** An upload step that failed in a way a retry may cure. */
class BrokenUpload extends Error {
  constructor(
    readonly why: string,
    readonly final: OutputError,
    readonly retryAfter?: string,
    /** The session cannot be resumed (the registry refused its range): start a new one. */
    readonly restart = false,
  ) {
    super(why);
  }
}

export class RegistryClient {
  private scheme: 'https' | 'http' | 'probe';
  private readonly auth: Authenticator;
  private readonly transport: Transport;
  private readonly retry: RetryPolicy;
  private readonly chunkSize: number;
  private readonly pushScope: string;
  private readonly operation: 'push' | 'pull';

  /** registry: "host[:port]" as written in the -t name; repository: e.g. "team/app". */
  constructor(
    readonly registry: string,
    private readonly repository: string,
    credentials?: Credentials | CredentialLookup,
    private readonly options: RegistryClientOptions = {},
  ) {
    this.operation = options.operation ?? 'push';
    this.scheme = isLoopback(registry) ? 'probe' : 'https';
    // The client certificate goes to the registry's own host only, as Docker's certs.d/HOST
    // gives it: not to a token realm or a storage host elsewhere.
    const own = options.transport ?? httpTransport(options.tls);
    const others = options.transport ?? httpTransport({ ca: options.tls?.ca });
    this.transport = (request) => (request.url.host === this.url('/').host ? own : others)(request);
    this.retry = options.retry ?? defaultRetryPolicy;
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.pushScope = repositoryScope(repository, this.operation === 'pull' ? 'pull' : 'pull,push');
    const lookup: CredentialLookup = typeof credentials === 'function' ? credentials : async () => credentials;
    this.auth = new Authenticator(lookup, (request, doing) =>
      this.retrying(doing, () => this.transport(request), request.url.origin),
    );
  }

  /**
   * Fails early, with the push's own messages, if the registry does not answer or refuses
   * our credentials: a token for the push scope is fetched here, before the compile.
   */
  async ping(): Promise<void> {
    const response = await this.call({ method: 'GET', target: '/v2/', doing: 'checking the API (/v2/)', retry: true });
    await this.expect(response, [200], 'checking the API (/v2/)');
  }

  async hasBlob(digest: string): Promise<boolean> {
    const doing = `checking blob ${short(digest)}`;
    const response = await this.call({ method: 'HEAD', target: `/v2/${this.repository}/blobs/${digest}`, doing, retry: true });
    if (response.status === 404) return false;
    await this.expect(response, [200], doing);
    return true;
  }

  /**
   * Uploads a blob, resuming or restarting after a failure (bounded by the retry policy).
   * mountFrom: a repository of this registry that holds the blob: asked to mount it first.
   */
  async uploadBlob(digest: string, data: Buffer, options: { mountFrom?: string } = {}): Promise<void> {
    const started = await this.startUpload(digest, options.mountFrom);
    if (started === 'mounted') return;
    let session = started;
    for (let retry = 1; ; retry++) {
      try {
        return await this.sendBlob(session, digest, data);
      } catch (error) {
        if (!(error instanceof BrokenUpload)) throw error;
        if (retry >= this.retry.attempts) throw error.final;
        await this.pause(retry, `${error.why} while uploading blob ${short(digest)}`, error.retryAfter);
        // The last PUT may have landed before its answer was lost.
        if (await this.hasBlob(digest)) return;
        session = (error.restart ? undefined : await this.uploadStatus(session)) ?? (await this.startUpload(digest) as UploadSession);
      }
    }
  }

  /**
   * The manifest (or index) under `reference`, a tag or a digest, if there is one. `accept`:
   * the media types to ask for; a registry may answer a type it was not asked for with a 404.
   */
  async getManifest(reference: string, accept: readonly string[]): Promise<{ mediaType: string; data: Buffer } | undefined> {
    const response = await this.manifestResponse(reference, accept);
    if (response.status === 404) return undefined;
    return this.manifestIn(response, reference);
  }

  /**
   * The manifest (or index) under `reference`, which must be there: a 404 is an error saying
   * whether the repository or the tag is missing (the tag list tells, and names the tags
   * there are), in the registry's own words.
   */
  async requireManifest(reference: string, accept: readonly string[]): Promise<{ mediaType: string; data: Buffer }> {
    const response = await this.manifestResponse(reference, accept);
    if (response.status === 404) throw await this.missing(reference, response);
    return this.manifestIn(response, reference);
  }

  private manifestResponse(reference: string, accept: readonly string[]): Promise<HttpResponse> {
    return this.call({
      method: 'GET',
      target: `/v2/${this.repository}/manifests/${reference}`,
      doing: `reading manifest ${reference}`,
      headers: { Accept: accept.join(', ') },
      retry: true,
    });
  }

  /** The manifest of a 200 answer; any other answer is an error saying what it was. */
  private async manifestIn(response: HttpResponse, reference: string): Promise<{ mediaType: string; data: Buffer }> {
    await this.expect(response, [200], `reading manifest ${reference}`);
    return { mediaType: response.header('content-type')?.split(';')[0]?.trim() ?? '', data: response.body };
  }

  /** Why `reference` is not there: no such repository, or no such tag or digest in it. */
  private async missing(reference: string, answer: HttpResponse): Promise<ConfigError> {
    const name = `${this.repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const tags = await this.call({ method: 'GET', target: `/v2/${this.repository}/tags/list`, doing: 'listing tags', retry: true });
    if (tags.status === 404) {
      return new ConfigError(`registry ${this.registry} has no repository ${this.repository} (${registryMessage(tags)})`, {
        field: this.field,
        hint: 'check the image name (registry/repository:tag)',
      });
    }
    let listed: string[] = [];
    try {
      listed = ((JSON.parse(tags.body.toString('utf8')) as { tags?: unknown }).tags as string[] | null) ?? [];
    } catch {
      // no list to show: the message below goes without it
    }
    const sorted = Array.isArray(listed) ? listed.filter((t) => typeof t === 'string').sort() : [];
    const some = sorted.length > 0 ? `; its tags: ${sorted.slice(0, 10).join(', ')}${sorted.length > 10 ? ', …' : ''}` : '';
    return new ConfigError(`registry ${this.registry} has no image ${name} (${registryMessage(answer)})${some}`, {
      field: this.field,
      hint: 'check the tag or digest',
    });
  }

  /**
   * A blob's bytes, `size` of them at most (the caller checks the digest). A registry may
   * answer with a redirect to its storage: followed (a few hops, each Location read from the
   * URL it answers), without our credentials when it leads to another origin; plain http
   * and this machine's own addresses only for a registry on this machine.
   */
  async getBlob(digest: string, size: number): Promise<Buffer> {
    const doing = `reading blob ${short(digest)}`;
    const path = `/v2/${this.repository}/blobs/${digest}`;
    let response = await this.call({ method: 'GET', target: path, doing, retry: true, maxBody: size });
    let url = this.url(path); /* after the call: a loopback registry's scheme is known then */
    for (let hops = 0; REDIRECTS.has(response.status) && hops < MAX_REDIRECTS; hops++) {
      const location = response.header('location');
      if (!location) throw this.refusedWith(response.status, doing, 'a redirect without a Location header');
      url = new URL(location, url);
      const local = isLoopback(this.registry);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local && isLoopback(url.host))) {
        throw this.refusedWith(response.status, doing, `a redirect to ${url.origin}, which is not https${local ? ' nor loopback' : ''}`);
      }
      if (!local && isLoopback(url.host)) throw this.refusedWith(response.status, doing, `a redirect to this machine (${url.origin})`);
      const to = url;
      response =
        to.origin === this.url('/').origin
          ? await this.call({ method: 'GET', target: to, doing, retry: true, maxBody: size })
          : await this.retrying(doing, () => this.transport({ method: 'GET', url: to, maxBody: size }), to.origin);
    }
    await this.expect(response, [200], doing);
    return response.body;
  }

  /**
   * Puts the manifest under `tag`. Returns the digest the registry computed and, for a manifest
   * with a `subject`, the OCI-Subject it answers with when it keeps the referrers list itself.
   */
  async putManifest(tag: string, mediaType: string, data: Buffer): Promise<{ digest?: string; subject?: string }> {
    const doing = `putting manifest ${tag}`;
    // A PUT of the same bytes under the same name is idempotent: safe to retry.
    const response = await this.call({
      method: 'PUT',
      target: `/v2/${this.repository}/manifests/${tag}`,
      doing,
      body: data,
      headers: { 'Content-Type': mediaType },
      retry: true,
    });
    await this.expect(response, [201], doing);
    return { digest: response.header('docker-content-digest'), subject: response.header('oci-subject') };
  }

  /** POST to open an upload (or to mount the blob from `mountFrom`): the session, or 'mounted'. */
  private async startUpload(digest: string, mountFrom?: string): Promise<UploadSession | 'mounted'> {
    const query = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    const doing = mountFrom ? `mounting blob ${short(digest)} from ${mountFrom}` : 'starting a blob upload';
    // A POST repeated after a lost answer only leaves an unused session, which the registry expires.
    const response = await this.call({
      method: 'POST',
      target: `/v2/${this.repository}/blobs/uploads/${query}`,
      doing,
      scopes: mountFrom ? [this.pushScope, repositoryScope(mountFrom, 'pull')] : undefined,
      retry: true,
    });
    if (mountFrom && response.status === 201) return 'mounted';
    // We may not pull from the source (the registry wants that for a mount): upload instead, as docker does.
    if (mountFrom && (response.status === 401 || response.status === 403)) return this.startUpload(digest);
    // A registry that cannot mount answers as to a plain POST: upload into the session it opened.
    await this.expect(response, [202], doing);
    return { url: this.location(response, doing), offset: 0 };
  }

  /** Sends the bytes the session lacks, then closes it with the digest. Updates `session` as it goes. */
  private async sendBlob(session: UploadSession, digest: string, data: Buffer): Promise<void> {
    const doing = `uploading blob ${short(digest)}`;
    const octets = { 'Content-Type': 'application/octet-stream' };
    if (session.offset === 0 && data.length <= this.chunkSize) {
      const put = await this.step({ method: 'PUT', target: withDigest(session.url, digest), body: data, headers: octets, doing, retry: false });
      return this.expect(put, [201], doing);
    }
    while (session.offset < data.length) {
      const end = Math.min(session.offset + this.chunkSize, data.length);
      const chunk = `${doing} (bytes ${session.offset}-${end - 1} of ${data.length})`;
      const patch = await this.step({
        method: 'PATCH',
        target: session.url,
        body: data.subarray(session.offset, end),
        headers: { ...octets, 'Content-Range': `${session.offset}-${end - 1}` },
        doing: chunk,
        retry: false,
      });
      if (patch.status === 416) throw new BrokenUpload('HTTP 416 (the registry holds other bytes)', this.refused(416, chunk, patch), undefined, true);
      await this.expect(patch, [202], chunk);
      session.url = this.location(patch, chunk);
      session.offset = end;
    }
    const put = await this.step({ method: 'PUT', target: withDigest(session.url, digest), doing: `${doing} (closing it)`, retry: false });
    await this.expect(put, [201], `${doing} (closing it)`);
  }

  /** A call that is not repeated as it is: a failure a retry may cure becomes a BrokenUpload. */
  private async step(call: Call): Promise<HttpResponse> {
    let response: HttpResponse;
    try {
      response = await this.call(call);
    } catch (error) {
      if (error instanceof OutputError && isRetryableError(error.cause)) throw new BrokenUpload(errorCode(error.cause)!, error);
      throw error;
    }
    if (isRetryableStatus(response.status)) {
      throw new BrokenUpload(`HTTP ${response.status}`, this.refused(response.status, call.doing, response), response.header('retry-after'));
    }
    return response;
  }

  /** GET an upload's URL: where the registry stands (its Range), or undefined if the session is gone. */
  private async uploadStatus(session: UploadSession): Promise<UploadSession | undefined> {
    const response = await this.call({ method: 'GET', target: session.url, doing: 'asking where the upload stands', retry: true });
    const range = /^(?:bytes=)?0-(\d+)$/.exec(response.header('range') ?? '');
    const location = response.header('location');
    if (response.status !== 204 || !range || !location) return undefined;
    // "0-0" is what a registry says for an empty session too; a wrong guess gets a 416 and a new session.
    const end = Number(range[1]);
    return { url: new URL(location, session.url), offset: end === 0 && session.offset === 0 ? 0 : end + 1 };
  }

  /** One call: the credentials the registry asks for (once per call), and retries if allowed. */
  private async call(call: Call): Promise<HttpResponse> {
    const scopes = call.scopes ?? [this.pushScope];
    let answered = false;
    for (;;) {
      let sent: string | undefined;
      const response = await this.retrying(
        call.doing,
        async () => {
          sent = await this.authorization(scopes);
          return this.send(call, sent);
        },
        this.url('/').origin,
        call.retry,
      );
      if (response.status !== 401 || answered) return response;
      answered = true;
      if (!(await this.answer(response.header('www-authenticate'), scopes, sent))) return response;
    }
  }

  /** Runs `attempt`, trying again with backoff on a retryable answer or broken connection if `retry`. */
  private async retrying(doing: string, attempt: () => Promise<HttpResponse>, where: string, retry = true): Promise<HttpResponse> {
    for (let retries = 1; ; retries++) {
      const last = !retry || retries >= this.retry.attempts;
      let response: HttpResponse;
      try {
        response = await attempt();
      } catch (error) {
        if (error instanceof OutputError) throw error;
        if (last || !isRetryableError(error)) throw this.unreachable(where, error, retries);
        await this.pause(retries, `${errorCode(error)} while ${doing}`);
        continue;
      }
      if (last || !isRetryableStatus(response.status)) return response;
      await this.pause(retries, `HTTP ${response.status} while ${doing}`, response.header('retry-after'));
    }
  }

  private async pause(retry: number, why: string, retryAfter?: string): Promise<void> {
    const ms = retryDelay(this.retry, retry, retryAfter);
    this.options.onRetry?.(`registry ${this.registry}: ${why}; retrying in ${(ms / 1000).toFixed(1)} s (retry ${retry} of ${this.retry.attempts - 1})`);
    await this.retry.sleep(ms);
  }

  private async authorization(scopes: string[]): Promise<string | undefined> {
    try {
      return await this.auth.header(scopes);
    } catch (error) {
      throw await this.tokenError(error);
    }
  }

  private async answer(challenge: string | undefined, scopes: string[], refused: string | undefined): Promise<boolean> {
    try {
      return await this.auth.answer(challenge, scopes, refused);
    } catch (error) {
      throw await this.tokenError(error);
    }
  }

  private async tokenError(error: unknown): Promise<unknown> {
    if (!(error instanceof TokenRefused)) return error;
    return this.refused(error.status, `getting a token from ${error.endpoint}`, error.response, await this.auth.credentialsFrom());
  }

  private async send(call: Call, authorization: string | undefined): Promise<HttpResponse> {
    const headers = { ...call.headers, ...(authorization ? { Authorization: authorization } : {}) };
    const request = { method: call.method, url: this.url(call.target), headers, body: call.body, maxBody: call.maxBody };
    if (this.scheme !== 'probe') return this.transport(request);
    try {
      const response = await this.transport(request);
      this.scheme = 'https';
      return response;
    } catch (error) {
      if (!isPlainHttpAnswer(error)) throw error;
      // A loopback registry without TLS: plain http from now on, as Docker allows for loopback only.
      this.scheme = 'http';
      return this.transport({ ...request, url: this.url(call.target) });
    }
  }

  private url(target: string | URL): URL {
    if (target instanceof URL) return target;
    const origin = this.registry === 'docker.io' || this.registry === 'index.docker.io' ? 'registry-1.docker.io' : this.registry;
    return new URL(target, `${this.scheme === 'http' ? 'http' : 'https'}://${origin}`);
  }

  /** An upload's next URL, from the Location of the answer; it may be relative and carry the registry's state. */
  private location(response: HttpResponse, doing: string): URL {
    const location = response.header('location');
    if (!location) throw this.refusedWith(response.status, doing, 'the answer has no Location header');
    return new URL(location, this.url('/'));
  }

  private async expect(response: HttpResponse, ok: number[], doing: string): Promise<void> {
    if (ok.includes(response.status)) return;
    throw this.refused(response.status, doing, response, await this.auth.credentialsFrom().catch(() => undefined));
  }

  private refused(status: number, doing: string, response: HttpResponse, credentialsFrom?: string): OutputError {
    return this.refusedWith(status, doing, registryMessage(response), credentialsFrom);
  }

  private refusedWith(status: number, doing: string, message: string, credentialsFrom?: string): OutputError {
    const login = `\`docker login ${this.registry}\``;
    return new OutputError(`registry ${this.registry} refused the ${this.operation} (HTTP ${status} while ${doing}): ${message}`, {
      field: this.field,
      hint:
        status === 401 || status === 403
          ? credentialsFrom
            ? `the credentials from ${credentialsFrom} were refused: log in again with ${login}, and check that you may ${this.operation} ${this.operation === 'push' ? 'to' : 'from'} ${this.repository}`
            : `no credentials for ${this.registry}: log in with ${login} (read from $DOCKER_CONFIG or ~/.docker/config.json, credential helpers included)`
          : status >= 500
            ? `the registry failed: see its log${this.operation === 'push' ? ', and check that it has free space' : ''}`
            : this.operation === 'push'
              ? 'check that the registry accepts pushes (not read-only) and the name in -t'
              : 'check the image name, and that this is an OCI distribution registry',
    });
  }

  /** The flag or argument a message names: --push, or convert's IMAGE. */
  private get field(): string {
    return this.operation === 'push' ? '--push' : 'IMAGE';
  }

  private unreachable(where: string, error: unknown, tries: number): OutputError {
    const code = errorCode(error) ?? errorCode((error as { cause?: unknown }).cause);
    if (code === 'ETOOLARGE') {
      return new OutputError(`registry ${this.registry}: ${errorMessage(error)} (${where}), more than such an answer holds`, {
        field: this.field,
        hint: 'check the registry: it sends more than the image it names',
        cause: error,
      });
    }
    const after = tries > 1 ? ` (after ${tries} tries)` : '';
    if (code && TLS_TRUST_ERRORS.has(code)) {
      return new OutputError(`registry ${this.registry}: its TLS certificate is not trusted (${code}: ${errorMessage(error)})`, {
        field: this.field,
        hint: `give its CA as /etc/docker/certs.d/${this.registry}/ca.crt (where docker looks too) or NABLA_REGISTRY_CA=FILE`,
        cause: error,
      });
    }
    return new OutputError(`cannot reach registry ${this.registry}: ${code ?? errorMessage(error)}${after} (${where})`, {
      field: this.field,
      hint:
        "is the registry running? check the tag's registry host and port; " +
        'only localhost, 127.0.0.0/8 and ::1 registries are spoken to over plain http',
      cause: error,
    });
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

const TLS_TRUST_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Docker speaks plain http to loopback registries only (they cannot be intercepted). */
function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The upload URL with `digest=` added to whatever state the registry keeps in its query. */
function withDigest(url: URL, digest: string): URL {
  const closing = new URL(url);
  closing.search = `${closing.search ? `${closing.search}&` : '?'}digest=${encodeURIComponent(digest)}`;
  return closing;
}

/** The registry's own words: `errors[].message` of its JSON body, else the start of the text. */
function registryMessage(response: HttpResponse): string {
  const text = response.body.toString('utf8');
  try {
    const errors = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    if (errors.length > 0) return errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    // not JSON: the raw text below
  }
  return text.trim().slice(0, 200) || 'no message';
}

const short = (digest: string) => digest.slice(0, 19);
