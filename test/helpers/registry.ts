/**
 * A real registry (Debian's docker-registry) on 127.0.0.1 for push tests, started per test
 * file: plain, read-only, behind htpasswd, behind a token server, over TLS.
 */
import fs from 'node:fs';
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
