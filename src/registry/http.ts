/**
 * One HTTP(S) exchange with a registry, over node:http/https rather than fetch: fetch
 * cannot be given a CA of our own, and we want the socket's own error codes (ECONNRESET,
 * EPROTO) to tell a retry from a refusal. Answers are read whole, up to a limit: registries
 * answer with small JSON documents (a blob's answer is bounded by its known size), and a
 * registry that sends more, or says it will, fails the call (ETOOLARGE) before it fills memory.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer;
  /** The most bytes of answer taken (default MAX_ANSWER): past it the call fails, ETOOLARGE. */
  maxBody?: number;
}

/** Manifests, indexes, tokens, error documents: containerd takes manifests up to 4 MiB too. */
export const MAX_ANSWER = 4 * 1024 * 1024;

export interface HttpResponse {
  status: number;
  /** One header, by its name in any case; the first value of a repeated one. */
  header(name: string): string | undefined;
  body: Buffer;
}

/** What TLS trusts and presents, from certs.d and the CA file (access.ts). */
export interface TlsOptions {
  /** Replaces Node's CA list when set: the caller puts the system CAs in too. */
  ca?: string[];
  /** A client certificate and key, for registries that ask for one. */
  cert?: string;
  key?: string;
}

export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** A registry that goes this long without a byte has stalled: the call fails with ETIMEDOUT. */
const IDLE_TIMEOUT_MS = 60_000;

export function httpTransport(tls: TlsOptions = {}): Transport {
  // Keep-alive: a push makes dozens of calls to one host. Idle sockets do not hold the process.
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true, ...tls }) };
  return ({ method, url, headers = {}, body, maxBody = MAX_ANSWER }) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const sized = body !== undefined || method === 'PUT' || method === 'POST' || method === 'PATCH';
      const request = (secure ? https : http).request(url, {
        method,
        agent: secure ? agents.https : agents.http,
        headers: sized ? { ...headers, 'Content-Length': String(body?.length ?? 0) } : headers,
      });
      request.setTimeout(IDLE_TIMEOUT_MS, () => request.destroy(Object.assign(new Error('the registry stopped answering'), { code: 'ETIMEDOUT' })));
      request.on('error', reject);
      const tooLarge = () => request.destroy(Object.assign(new Error(`the answer is larger than ${maxBody} bytes`), { code: 'ETOOLARGE' }));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        // A HEAD's Content-Length is the size of what a GET would send (a blob's, for one).
        if (method !== 'HEAD' && Number(response.headers['content-length']) > maxBody) return tooLarge();
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) return tooLarge();
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            header(name) {
              const value = response.headers[name.toLowerCase()];
              return Array.isArray(value) ? value[0] : value;
            },
            body: Buffer.concat(chunks),
          }),
        );
      });
      request.end(body);
    });
}

/** The socket's error code (ECONNRESET, EPROTO, …), if the error came from one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A TLS hello answered in plain HTTP: the server does not speak TLS on that port. */
export function isPlainHttpAnswer(error: unknown): boolean {
  return errorCode(error) === 'EPROTO' && /wrong version number|packet length too long|http request/i.test(String((error as Error).message));
}
