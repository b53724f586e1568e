/**
 * Test servers on 127.0.0.1, as the registry tests and proxies start them: a free port, an
 * HTTP(S) server listening on one with a stop that ends its open connections too, and a CA
 * with a certificate for 127.0.0.1 it signs, for the ones that speak TLS.
 */
import fs from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';

export interface LoopbackServer {
  /** 127.0.0.1:PORT */
  host: string;
  stop(): Promise<void>;
}

/** `server` (http or https) listening on 127.0.0.1 at a port the system picks. */
export async function listenOnLoopback(server: http.Server): Promise<LoopbackServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (for now): for a server started elsewhere, or one that is not there. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface LoopbackCertificates {
  /** The CA's certificate: what a client trusts (certs.d/HOST:PORT/ca.crt, NABLA_REGISTRY_CA). */
  ca: string;
  /** The server's certificate for IP 127.0.0.1, signed by the CA, and its key (PEM files). */
  certificate: string;
  key: string;
}

/** Makes a CA and a certificate for 127.0.0.1 (openssl, valid two days) in `dir`. */
export async function loopbackCertificates(dir: string): Promise<LoopbackCertificates> {
  const sh = (args: string[]) => execa('openssl', args, { cwd: dir });
  await sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=nabla test CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
  await sh(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await sh(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt']);
  return { ca: path.join(dir, 'ca.crt'), certificate: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
}
