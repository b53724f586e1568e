/**
 * The built-in load: sequential HTTP GETs of `/`, one connection each (no keep-alive), so
 * every request goes through the server's whole accept/read/write/close path. Bounded by a
 * count, not a time, so two runs do the same work.
 */
import http from 'node:http';
import { InterruptedError } from '../util/errors.js';

export interface LoadResult {
  requests: number;
  /** Answers with a 2xx or 3xx status. */
  ok: number;
  failed: number;
  ms: number;
}

function get(host: string, port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host, port, path: '/', agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/** Waits until the server answers a GET at all (any status), or the time is up. */
export async function waitForHttp(host: string, port: number, timeoutMs: number, signal: AbortSignal, stillRunning: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (signal.aborted) throw new InterruptedError();
    try {
      await get(host, port, 2000);
      return;
    } catch (error) {
      last = error;
    }
    if (!(await stillRunning())) throw new Error('it exited before it answered');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no HTTP answer on ${host}:${port} in ${timeoutMs / 1000} s (${last instanceof Error ? last.message : String(last)})`);
}

export async function httpLoad(host: string, port: number, requests: number, signal: AbortSignal): Promise<LoadResult> {
  const started = Date.now();
  let ok = 0;
  let failed = 0;
  for (let i = 0; i < requests; i++) {
    if (signal.aborted) throw new InterruptedError();
    try {
      const status = await get(host, port, 10_000);
      if (status >= 200 && status < 400) ok++;
      else failed++;
    } catch {
      failed++;
    }
  }
  return { requests, ok, failed, ms: Date.now() - started };
}
