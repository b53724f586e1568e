/**
 * Credentials as `docker login` leaves them in config.json: a credential helper per
 * registry (`credHelpers`), one helper for all (`credsStore`), else the file's own
 * `auths` entry, holding `auth` (base64 "user:password") or an `identitytoken` (an
 * OAuth2 refresh token). Docker's order; a helper that knows nothing means anonymous.
 */
import fs from 'node:fs';
import { execa } from 'execa';
import { EnvironmentError, OutputError, type NablaError } from '../util/errors.js';

export type Credentials =
  | { kind: 'password'; username: string; password: string; from: string }
  | { kind: 'identity-token'; token: string; from: string };

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** Runs `docker-credential-NAME get` with the server on stdin: its stdout, exit code, stderr. */
export type HelperRunner = (
  program: string,
  server: string,
) => Promise<{ exitCode: number | undefined; stdout: string; stderr: string; missing?: boolean }>;

export const runHelper: HelperRunner = async (program, server) => {
  const result = await execa(program, ['get'], { input: server, reject: false, timeout: 60_000, stripFinalNewline: true });
  const missing = (result as { code?: string }).code === 'ENOENT';
  return { exitCode: result.exitCode, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), missing };
};

/** The key docker uses for a registry in config.json and with helpers. */
export function serverKey(registry: string): string {
  return isDockerHub(registry) ? 'https://index.docker.io/v1/' : registry;
}

/** The credentials for `registry` in the docker config file, or undefined for anonymous. */
export async function dockerCredentials(registry: string, configFile: string, run: HelperRunner = runHelper): Promise<Credentials | undefined> {
  const config = readConfig(configFile);
  if (!config) return undefined; // no config, or not JSON: push without credentials, as docker would
  const host = hostnameOf(serverKey(registry));
  const perRegistry = Object.entries(config.credHelpers ?? {}).find(([key]) => hostnameOf(key) === host)?.[1];
  if (perRegistry) return fromHelper(perRegistry, `credHelpers in ${configFile}`, registry, configFile, run);
  if (config.credsStore) return fromHelper(config.credsStore, `credsStore in ${configFile}`, registry, configFile, run);
  const entry = Object.entries(config.auths ?? {}).find(([key, value]) => hostnameOf(key) === host && (value?.auth || value?.identitytoken))?.[1];
  if (!entry) return undefined;
  const from = `auths in ${configFile}`;
  if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken, from };
  const [username, ...rest] = Buffer.from(entry.auth!, 'base64').toString('utf8').split(':');
  if (rest.length === 0) {
    throw new OutputError(`the auth of ${registry} in ${configFile} is not base64 "user:password"`, {
      file: configFile,
      hint: `log in again with \`docker login ${registry}\``,
    });
  }
  return { kind: 'password', username: username!, password: rest.join(':'), from };
}

async function fromHelper(name: string, via: string, registry: string, configFile: string, run: HelperRunner): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  // The name becomes a program to run: keep it a plain name found on PATH, never a path.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new OutputError(`credential helper name "${name}" (${via}) is not a plain name`, { file: configFile, hint: 'name a docker-credential-* program on PATH' });
  }
  const failed = (why: string, hint: string, Class: new (message: string, options: object) => NablaError = OutputError) =>
    new Class(`credential helper ${program} (${via}) failed for ${registry}: ${why}`, { file: configFile, hint });
  const result = await run(program, serverKey(registry));
  if (result.missing) {
    throw failed(`${program} is not on PATH`, `install ${program}, or remove "${name}" from ${configFile}`, EnvironmentError);
  }
  if (result.exitCode !== 0) {
    const said = (result.stdout || result.stderr).trim().split('\n')[0] ?? '';
    // Docker's helpers say this when they hold nothing for the server: push anonymously.
    if (/credentials not found/i.test(said)) return undefined;
    throw failed(said || `exit code ${result.exitCode}`, `run \`echo ${serverKey(registry)} | ${program} get\` to see it fail, or log in again with \`docker login ${registry}\``);
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(result.stdout) as typeof answer;
  } catch {
    throw failed('its answer is not JSON', `run \`echo ${serverKey(registry)} | ${program} get\` and check that it prints {"Username":…,"Secret":…}`);
  }
  if (typeof answer.Secret !== 'string' || typeof answer.Username !== 'string' || answer.Secret === '') {
    throw failed('its answer has no Username and Secret', `log in again with \`docker login ${registry}\``);
  }
  const from = `${program} (${via})`;
  // A helper stores an identity token under the user name "<token>", as docker does.
  if (answer.Username === '<token>') return { kind: 'identity-token', token: answer.Secret, from };
  return { kind: 'password', username: answer.Username, password: answer.Secret, from };
}

function readConfig(file: string): DockerConfig | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as DockerConfig) : undefined;
  } catch {
    return undefined;
  }
}

/** "https://host:port/v1/" → "host:port", as docker matches config keys to registries. */
function hostnameOf(key: string): string {
  return key.replace(/^https?:\/\//, '').split('/')[0]!;
}

export function isDockerHub(registry: string): boolean {
  return registry === 'docker.io' || registry === 'index.docker.io';
}
