/**
 * Load and slow clients on the container's network (issue 15, item 6): the C server in both
 * of its designs (a thread per connection; one thread with epoll) and Python's
 * ThreadingHTTPServer take 1,000 keep-alive connections at once, answer 100,000 requests
 * with 0 errors, and keep their memory within what 1,000 connections need (and, for the
 * one-thread server, flat once warm); clients that send one byte a second do not stop
 * others being served. Memory is the tender's resident set
 * (VmRSS of the container's PID 1, read from the host): guest memory the app touched.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { LoadedImages, docker, keepAliveRequests, waitForLog } from '../helpers/docker.js';

const images = new LoadedImages();
const NETWORK = 'nabla-e2e-load-net';
const SUBNET = '10.95.0.0/24';
const NET_FLAGS = ['--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun'];
const CONNECTIONS = 1000;
/** Rounds of requests, each over 1,000 new connections, a second apart (the last round's
 * threads end): the first three warm up (threads, stacks and buffers for all 1,000 at once,
 * and the allocator's free lists at their widest). */
const ROUNDS = [10_000, 20_000, 20_000, 25_000, 25_000];
const TOTAL = ROUNDS.reduce((a, b) => a + b);
/** What a one-thread server's resident set may grow over the last 50,000 requests: settling,
 * not a leak (100 bytes a request would be 4.8 MiB). */
const FLAT_MIB = 2;

interface Server {
  name: string;
  image: string;
  dir: string;
  args: string[];
  port: number;
  body: string;
  /** The resident set it may reach: what 1,000 connections at once need (threads' stacks). */
  budgetMiB: number;
  /** One thread: its memory must not grow once warm (a thread per connection's high-water
   * mark moves with how many threads a round happened to overlap, so only the budget holds it). */
  flat: boolean;
}
const C_BODY = 'hello from a nabla unikernel\n';
const servers: Server[] = [
  // 64 KiB stacks (http.c) and 8 KiB buffers for 1,000 threads, and their overlap with the
  // last round's threads that are still closing.
  { name: 'C, a thread per connection', image: 'nabla-e2e/load-c:1', dir: 'examples/http-c', args: ['threads'], port: 8080, body: C_BODY, budgetMiB: 112, flat: false },
  { name: 'C, one thread with epoll', image: 'nabla-e2e/load-c:1', dir: 'examples/http-c', args: ['epoll'], port: 8080, body: C_BODY, budgetMiB: 24, flat: true },
  { name: 'Python ThreadingHTTPServer', image: 'nabla-e2e/load-python:1', dir: 'test/fixtures/load-python', args: [], port: 8000, body: 'hello from python\n', budgetMiB: 192, flat: false },
];
const containerOf = (i: number) => `nabla-e2e-load-${i}`;
const addressOf = (i: number) => `10.95.0.${10 + i}`;

/** Each image is built once, by the first server that runs it. */
const built = new Map<string, Promise<unknown>>();
const buildOnce = (s: Server) => {
  if (!built.has(s.image)) built.set(s.image, images.build(path.join(repoRoot, s.dir), s.image));
  return built.get(s.image)!;
};

beforeAll(async () => {
  await removeAll();
  const made = await docker('network', 'create', '--subnet', SUBNET, NETWORK);
  expect(made.exitCode, made.stderr).toBe(0);
});

afterAll(async () => {
  await removeAll();
  await images.removeAll();
});

async function removeAll() {
  await docker('rm', '-f', ...servers.map((_, i) => containerOf(i)));
  await docker('network', 'rm', NETWORK);
}

async function start(i: number): Promise<string> {
  const s = servers[i]!;
  const started = await docker('run', '-d', '--name', containerOf(i), '--network', NETWORK, '--ip', addressOf(i), ...NET_FLAGS, s.image, ...s.args);
  expect(started.exitCode, started.stderr).toBe(0);
  await waitForLog(containerOf(i), `listening on ${s.port}`, 60_000);
  return `http://${addressOf(i)}:${s.port}/`;
}

/** The tender's resident memory in MiB: the container's PID 1, seen from the host. */
async function residentMiB(container: string): Promise<number> {
  const pid = (await execa('docker', ['inspect', '-f', '{{.State.Pid}}', container])).stdout.trim();
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

/** Opens `count` connections that send a request one byte a second; they must still be waiting when closed. */
function slowClients(host: string, port: number, count: number) {
  const request = `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  const sockets = Array.from({ length: count }, () => {
    const socket = net.connect(port, host);
    let sent = 0;
    let answered = false;
    socket.on('data', () => (answered = true));
    socket.on('error', () => {});
    const timer = setInterval(() => sent < request.length && socket.write(request[sent++]!), 1000);
    return { socket, timer, answered: () => answered };
  });
  return {
    /** How many got an answer (a slow client's request is not whole yet: none should). */
    close(): number {
      for (const s of sockets) {
        clearInterval(s.timer);
        s.socket.destroy();
      }
      return sockets.filter((s) => s.answered()).length;
    },
  };
}

describe.each(servers.map((s, i) => [s.name, i] as const))('%s', (_name, i) => {
  const server = servers[i]!;
  let url = '';
  beforeAll(async () => {
    await buildOnce(server);
    url = await start(i);
  }, 1_800_000);
  afterAll(async () => {
    await docker('rm', '-f', containerOf(i));
  });

  it(`${CONNECTIONS} keep-alive connections at once answer ${TOTAL.toLocaleString('en')} requests with 0 errors; memory stays within what the connections need, and flat once warm where one thread serves them`, async () => {
    const resident: number[] = [];
    for (const requests of ROUNDS) {
      const round = await keepAliveRequests(url, requests, CONNECTIONS, server.body);
      expect(round.errors).toEqual([]);
      expect(round.ok).toBe(requests);
      await new Promise((r) => setTimeout(r, 1000));
      resident.push(await residentMiB(containerOf(i)));
    }
    console.log(`load ${server.name}: resident MiB after each round of ${ROUNDS.join(', ')} requests: ${resident.map((r) => r.toFixed(1)).join(', ')}`);
    expect(Math.max(...resident)).toBeLessThan(server.budgetMiB);
    if (server.flat) expect(resident.at(-1)! - resident[2]!).toBeLessThan(FLAT_MIB);
  });

  it('100 clients sending a byte a second do not stop 2,000 requests at concurrency 32 being answered', async () => {
    const slow = slowClients(addressOf(i), server.port, 100);
    await new Promise((r) => setTimeout(r, 2000)); // each has sent a byte or two
    const result = await keepAliveRequests(url, 2000, 32, server.body);
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(2000);
    expect(slow.close()).toBe(0);
  });
});
