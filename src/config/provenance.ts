/**
 * Where an app comes from, for the image's org.opencontainers.image.* annotations and its
 * SBOM: the git repository the app folder is in (remote URL without credentials, commit,
 * and whether the app's files differ from that commit), and the name, version and license
 * the app declares (nabla.json, else package.json). Read once, here at the edge.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface AppSource {
  /** The remote's URL ("origin", else the first), user and password removed. */
  url?: string;
  /** The commit checked out (HEAD). */
  revision?: string;
  /** True when the app folder's files differ from that commit (changed, added or untracked). */
  modified?: boolean;
}

/** What git says about appDir; {} when it is not in a work tree or git is missing. */
export function gitSource(appDir: string): AppSource {
  const git = (...args: string[]) => {
    try {
      // --no-optional-locks: `git status` must not write the index of someone's repository.
      return execFileSync('git', ['--no-optional-locks', '-C', appDir, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000,
      }).trim();
    } catch {
      return undefined;
    }
  };
  const revision = git('rev-parse', '--verify', '--quiet', 'HEAD');
  if (!revision || !/^[0-9a-f]{40,64}$/.test(revision)) return {};
  const remotes = git('remote')?.split('\n').filter(Boolean) ?? [];
  const remote = remotes.includes('origin') ? 'origin' : remotes[0];
  const url = remote ? withoutCredentials(git('remote', 'get-url', remote) ?? '') : undefined;
  const status = git('status', '--porcelain', '--untracked-files=normal', '--', '.');
  return { ...(url ? { url } : {}), revision, ...(status !== undefined ? { modified: status !== '' } : {}) };
}

/**
 * A remote URL fit to publish: user and password dropped from URLs (https://user:token@host/…
 * → https://host/…); scp-like "git@host:path" kept, its user is no secret. Local paths are
 * not published.
 */
export function withoutCredentials(url: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'file:') return undefined;
      parsed.username = '';
      parsed.password = '';
      return parsed.href;
    } catch {
      return undefined;
    }
  }
  return /^[\w.-]+@[\w.-]+:[^/\\]/.test(url) ? url : undefined;
}

/** name, version and license from package.json (Node apps, and any app that has one). */
export function packageJsonFields(appDir: string): { name?: string; version?: string; license?: string } {
  try {
    const json = JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
    return { name: text(json.name), version: text(json.version), license: text(json.license) };
  } catch {
    return {};
  }
}
