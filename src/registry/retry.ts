/**
 * When and how long to wait before trying a registry call again: bounded exponential
 * backoff with jitter (so many clients that failed together do not come back together),
 * and the registry's own Retry-After when it sends one.
 */
import { errorCode } from './http.js';

export interface RetryPolicy {
  /** Tries in all, the first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest Retry-After honoured; a registry asking for more is asked again after this. */
  maxRetryAfterMs: number;
  random(): number;
  sleep(ms: number): Promise<void>;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Answers that say "not now" rather than "no": rate limits and a failing or overloaded server. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/**
 * Connections that broke or stalled. Not ECONNREFUSED: nothing listens, and a push to a
 * registry that is down should fail at once, before the compile.
 */
export function isRetryableError(error: unknown): boolean {
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN'].includes(errorCode(error) ?? '');
}

/** The wait before retry number `retry` (1 for the first retry), in milliseconds. */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfter?: string, now = Date.now()): number {
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return Math.min(asked, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  // Half fixed, half random: never a zero wait, never all clients at the same moment.
  return Math.round(ceiling / 2 + (policy.random() * ceiling) / 2);
}

/** Retry-After as seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
