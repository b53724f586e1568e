/** The registry client against an in-process fake registry (the e2e suite uses a real one). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/client.js';
import { OutputError } from '../../src/util/errors.js';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
}

let server: http.Server | undefined;
afterEach(() => server?.close());

async function fakeRegistry(handler: (req: http.IncomingMessage, res: http.ServerResponse, host: string) => void) {
  const seen: Seen[] = [];
  server = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    req.resume();
    req.on('end', () => handler(req, res, `127.0.0.1:${(server!.address() as AddressInfo).port}`));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('registry client', () => {
  it('uploads a blob monolithically, keeping the query of a relative Location', async () => {
    const { host, seen } = await fakeRegistry((req, res) => {
      if (req.method === 'POST') res.writeHead(202, { Location: '/v2/team/app/blobs/uploads/abc?_state=xyz' }).end();
      else res.writeHead(201).end();
    });
    await new RegistryClient(host, 'team/app', undefined).uploadBlob('sha256:00', Buffer.from('x'));
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /v2/team/app/blobs/uploads/',
      'PUT /v2/team/app/blobs/uploads/abc?_state=xyz&digest=sha256%3A00',
    ]);
  });

  it('answers a Bearer challenge with a token from the realm, with stored credentials', async () => {
    const { host, seen } = await fakeRegistry((req, res, self) => {
      if (req.url!.startsWith('/token')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: 'T0K' }));
      } else if (req.headers.authorization !== 'Bearer T0K') {
        res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${self}/token",service="reg",scope="repository:team/app:pull,push"` }).end();
      } else {
        res.writeHead(200).end();
      }
    });
    expect(await new RegistryClient(host, 'team/app', 'dXNlcjpwdw==').hasBlob('sha256:00')).toBe(true);
    const token = seen.find((s) => s.url.startsWith('/token'))!;
    expect(token.url).toBe('/token?service=reg&scope=repository%3Ateam%2Fapp%3Apull%2Cpush');
    expect(token.authorization).toBe('Basic dXNlcjpwdw==');
    expect(seen.at(-1)!.authorization).toBe('Bearer T0K');
  });

  it('turns a refusal into an OutputError with the status and the registry message', async () => {
    const { host } = await fakeRegistry((_req, res) => {
      res.writeHead(403, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }));
    });
    const put = new RegistryClient(host, 'team/app', undefined).putManifest('1', 'application/vnd.oci.image.manifest.v1+json', Buffer.from('{}'));
    await expect(put).rejects.toBeInstanceOf(OutputError);
    await expect(put).rejects.toThrow(/HTTP 403 while putting manifest 1\): DENIED: requested access to the resource is denied/);
  });

  it('reports the digest the registry computed', async () => {
    const { host } = await fakeRegistry((_req, res) => res.writeHead(201, { 'Docker-Content-Digest': 'sha256:ab' }).end());
    expect(await new RegistryClient(host, 'a', undefined).putManifest('1', 'x', Buffer.from('{}'))).toBe('sha256:ab');
  });
});
