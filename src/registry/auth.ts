/**
 * Answers a registry's 401 challenges: Basic with the user's password, or Bearer with a
 * token for the scopes a call needs (docker's token protocol: GET the realm with Basic
 * credentials, or the OAuth2 refresh-token grant for an identity token). Tokens are kept
 * per set of scopes until they expire, so one token serves every call of a push, and a
 * call that needs more (pulling a blob from another repository to mount it) gets a new one.
 */
import type { Credentials } from './credentials.js';
import type { HttpRequest, HttpResponse } from './http.js';

export type CredentialLookup = () => Promise<Credentials | undefined>;

interface Token {
  header: string;
  expiresAt: number;
}

/** Why a token request was refused, for the client to word as an error. */
export class TokenRefused extends Error {
  constructor(
    readonly status: number,
    readonly endpoint: string,
    readonly response: HttpResponse,
  ) {
    super(`HTTP ${status} from ${endpoint}`);
  }
}

export class Authenticator {
  private credentials?: Promise<Credentials | undefined>;
  private basic?: string;
  private bearer?: { realm: string; service?: string };
  private readonly tokens = new Map<string, Token>();
  private refreshToken?: string;

  constructor(
    private readonly lookup: CredentialLookup,
    /** Sends a token request (with the client's retries); never answers challenges itself. */
    private readonly send: (request: HttpRequest, doing: string) => Promise<HttpResponse>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Where the credentials came from (for messages); undefined if there are none. */
  async credentialsFrom(): Promise<string | undefined> {
    return (await this.userCredentials())?.from;
  }

  /** The Authorization header for a call that needs `scopes`, once the registry has said how it wants it. */
  async header(scopes: string[]): Promise<string | undefined> {
    if (this.basic) return this.basic;
    if (!this.bearer) return undefined;
    const token = this.tokens.get(scopeKey(scopes));
    if (token && token.expiresAt > this.now()) return token.header;
    // A new scope (or an expired token) with a realm we know: ask before the call, not after its 401.
    return (await this.fetchToken(scopes)).header;
  }

  /**
   * Answers a 401's WWW-Authenticate for a call that needs `scopes`. True when there is
   * something new to send; false when we have nothing (no credentials) or only what was refused.
   */
  async answer(challenge: string | undefined, scopes: string[], refused: string | undefined): Promise<boolean> {
    if (!challenge) return false;
    const scheme = challenge.trim().split(/\s+/)[0]!.toLowerCase();
    if (scheme === 'basic') {
      const credentials = await this.userCredentials();
      if (credentials?.kind !== 'password') return false;
      const header = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
      if (header === refused) return false;
      this.basic = header;
      return true;
    }
    if (scheme !== 'bearer') return false;
    const params = challengeParams(challenge);
    if (!params.realm) return false;
    this.bearer = { realm: params.realm, service: params.service };
    // The registry may name a scope we did not think of (insufficient_scope): add it.
    const wanted = [...scopes];
    for (const scope of (params.scope ?? '').split(' ').filter(Boolean)) if (!covers(wanted, scope)) wanted.push(scope);
    const token = await this.fetchToken(wanted);
    this.tokens.set(scopeKey(scopes), token);
    return token.header !== refused;
  }

  private async fetchToken(scopes: string[]): Promise<Token> {
    const { realm, service } = this.bearer!;
    const credentials = await this.userCredentials();
    const endpoint = new URL(realm);
    let request: HttpRequest;
    if (credentials?.kind === 'identity-token') {
      // OAuth2 refresh-token grant, as docker does for an identity token (scopes space-separated).
      const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'nabla-build', refresh_token: this.refreshToken ?? credentials.token });
      if (service) form.set('service', service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      request = { method: 'POST', url: endpoint, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) };
    } else {
      const url = new URL(endpoint);
      if (service) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const headers: Record<string, string> = {};
      if (credentials?.kind === 'password') {
        url.searchParams.set('account', credentials.username);
        headers.Authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
      }
      request = { method: 'GET', url, headers };
    }
    const where = `${endpoint.origin}${endpoint.pathname}`;
    const response = await this.send(request, `getting a token from ${where}`);
    if (response.status !== 200) throw new TokenRefused(response.status, where, response);
    let body: { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    try {
      body = JSON.parse(response.body.toString('utf8')) as typeof body;
    } catch {
      throw new TokenRefused(response.status, where, response);
    }
    const value = body.token ?? body.access_token;
    if (!value) throw new TokenRefused(response.status, where, response);
    if (body.refresh_token) this.refreshToken = body.refresh_token;
    // The spec's default lifetime is 60 s; renew a little early so a call never carries a dead token.
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    const token = { header: `Bearer ${value}`, expiresAt: this.now() + Math.max(lifetime - 10, 1) * 1000 };
    this.tokens.set(scopeKey(scopes), token);
    return token;
  }

  private userCredentials(): Promise<Credentials | undefined> {
    // Looked up once, and only when a registry asks: a helper may be slow or prompt.
    this.credentials ??= this.lookup();
    return this.credentials;
  }
}

/** `repository:team/app:pull,push` */
export function repositoryScope(repository: string, actions: string): string {
  return `repository:${repository}:${actions}`;
}

/** True when one of `scopes` grants everything `scope` asks (same resource, a superset of actions). */
function covers(scopes: string[], scope: string): boolean {
  const [type, name, actions = ''] = splitScope(scope);
  return scopes.some((held) => {
    const [t, n, a = ''] = splitScope(held);
    const granted = new Set(a.split(','));
    return t === type && n === name && actions.split(',').every((action) => granted.has(action));
  });
}

/** type:name:actions, where the name may hold a port (registry.example:5000/app). */
function splitScope(scope: string): [string, string, string | undefined] {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  return [scope.slice(0, first), scope.slice(first + 1, last), scope.slice(last + 1)];
}

const scopeKey = (scopes: string[]) => [...scopes].sort().join(' ');

/** `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"` → its params. */
function challengeParams(challenge: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of challenge.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) params[match[1]!.toLowerCase()] = match[2] ?? match[3] ?? '';
  return params;
}
