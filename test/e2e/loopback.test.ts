/**
 * Loopback with no network: apps built by nabla-build talk to themselves over 127.0.0.1
 * under `docker run --network none` (test servers, httptest, health checks), through the
 * libOS's own TCP/IP stack, with no host call for it. A server on 0.0.0.0 without a
 * network works over loopback and says once on stderr why nothing else reaches it.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { LoadedImages, runImage } from '../helpers/docker.js';

const images = new LoadedImages();
afterAll(async () => {
  await images.removeAll();
});

const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);
const HINT =
  'nabla libOS: no network: a server on 0.0.0.0:8080 is reachable only from inside this unikernel (127.0.0.1). ' +
  'With a network, list the port in nabla.json "ports" (or say "network": "container") and run with ' +
  'docker run --cap-add NET_ADMIN --device /dev/net/tun (README: Networking)';

describe('loopback without a network', () => {
  it('C: TCP echo, UDP echo, 64 MiB each way at once and request/answer rounds over 127.0.0.1', async () => {
    await images.build(fixture('loopback-c'), 'nabla-e2e/loopback-c:1');
    const result = await runImage('nabla-e2e/loopback-c:1');
    expect(result.stdout.split('\n')).toEqual([
      'tcp echo: 1000 messages over 127.0.0.1',
      'udp echo: 100 datagrams',
      'bulk: 64 MiB each way',
      'rounds: 2000',
    ]);
    expect(result.stderr).toMatch(/^throughput: [\d.]+ MB\/s each way\nlatency: [\d.]+ us per request and answer$/);
    console.log(`loopback-c: ${result.stderr.replaceAll('\n', '; ')}`);
    expect(result.exitCode).toBe(0);
  });

  it('C: a server on 0.0.0.0 answers over 127.0.0.1 and says once why nothing else reaches it', async () => {
    const result = await runImage('nabla-e2e/loopback-c:1', 'any');
    expect(result.stdout).toBe('0.0.0.0:8080 answers over 127.0.0.1');
    expect(result.stderr).toBe(HINT);
    expect(result.exitCode).toBe(0);
  });

  it('Go: httptest serves 200 requests, 50 goroutines at once and 16 MiB; listen on :0; localhost from /etc/hosts', async () => {
    await images.build(fixture('loopback-go'), 'nabla-e2e/loopback-go:1');
    const result = await runImage('nabla-e2e/loopback-go:1');
    expect(result.stdout.split('\n')).toEqual([
      'httptest: 200 requests answered',
      'concurrent: 50 goroutines answered',
      'big: 16 MiB',
      'listen :0: tcp, any',
      'localhost: [127.0.0.1] <nil>',
      'tcp6: refused', // no IPv6: socket(AF_INET6) is EAFNOSUPPORT, and Go uses IPv4
    ]);
    const lines = result.stderr.split('\n');
    expect(lines[0]).toMatch(/^throughput: [\d.]+ MB\/s; latency: \d+ us per request$/);
    console.log(`loopback-go: ${lines[0]}`);
    expect(lines.slice(1)).toEqual([HINT.replace('0.0.0.0:8080', `0.0.0.0:${lines[1]?.match(/0\.0\.0\.0:(\d+)/)?.[1]}`)]);
    expect(result.exitCode).toBe(0);
  });
});

describe('loopback without a network, Python', () => {
  it('socketserver over 127.0.0.1, create_server on localhost (IPv4), UDP', async () => {
    await images.build(fixture('loopback-python'), 'nabla-e2e/loopback-python:1');
    const result = await runImage('nabla-e2e/loopback-python:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'socketserver: 200 lines answered',
      'create_server(localhost): AF_INET 127.0.0.1',
      "getaddrinfo(localhost): ['127.0.0.1']",
      'has_dualstack_ipv6: False',
      'udp: ping 127.0.0.1',
    ]);
    expect(result.exitCode).toBe(0);
  });
});
