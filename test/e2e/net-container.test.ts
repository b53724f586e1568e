/**
 * The container's network, given to the unikernel: examples/http-c built by nabla-build
 * (its nabla.json lists a port, so the entrypoint has --net-from=eth0) and run with a plain
 * `docker run --cap-add NET_ADMIN --device /dev/net/tun` on a user-made Docker network.
 * The host reaches the container's address directly (dockerd runs without iptables here,
 * so nothing is published): curl-like requests, 10,000 keep-alive requests at concurrency
 * 32 with 0 errors, a client in the unikernel reaching a server on the host, frames a hostile
 * guest makes itself dropped unless they are its own, and the clear refusal when the flags
 * are missing.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { docker, httpGet, keepAliveRequests, waitForLog } from '../helpers/docker.js';

const IMAGE = 'nabla-e2e/http-c:1';
const CLIENT_IMAGE = 'nabla-e2e/net-c:1';
const NETWORK = 'nabla-e2e-net';
const SUBNET = '10.89.0.0/24';
const HOST_SIDE = '10.89.0.1'; // Docker gives the network's bridge on the host the first address
const SERVER = '10.89.0.10';
const CONTAINER = 'nabla-e2e-http';
const NET_FLAGS = ['--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun'];

const get = httpGet;

/** The MAC Docker gave the container's interface on NETWORK. */
async function macOf(container: string): Promise<string> {
  const mac = await docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${NETWORK}").MacAddress}}`, container);
  expect(mac.stdout.trim()).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  return mac.stdout.trim();
}

beforeAll(async () => {
  const build = await nabla(['build', path.join(repoRoot, 'examples', 'http-c'), '--load', '-t', IMAGE]);
  expect(build.exitCode, build.stderr).toBe(0);
  // The network test tool, as an app that asks for the container's network without ports.
  const client = tempDir('nabla-e2e-net-c-');
  fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'net-c'), client, { recursive: true });
  writeFiles(client, { 'nabla.json': JSON.stringify({ network: 'container', memory: 64 }) });
  const clientBuild = await nabla(['build', client, '--load', '-t', CLIENT_IMAGE]);
  fs.rmSync(client, { recursive: true, force: true });
  expect(clientBuild.exitCode, clientBuild.stderr).toBe(0);
  await docker('rm', '-f', CONTAINER);
  await docker('network', 'rm', NETWORK);
  const made = await docker('network', 'create', '--subnet', SUBNET, NETWORK);
  expect(made.exitCode, made.stderr).toBe(0);
  const started = await docker('run', '-d', '--name', CONTAINER, '--network', NETWORK, '--ip', SERVER, ...NET_FLAGS, IMAGE);
  expect(started.exitCode, started.stderr).toBe(0);
  await waitForLog(CONTAINER, 'listening on 8080');
}, 300_000);

afterAll(async () => {
  await docker('rm', '-f', CONTAINER);
  await docker('network', 'rm', NETWORK);
  await docker('rmi', '-f', IMAGE, CLIENT_IMAGE);
});

describe('an HTTP server in a unikernel, on the container\'s network', () => {
  it('the image takes the container\'s network: --net-from=eth0 in its entrypoint, 8080 exposed', async () => {
    const inspect = await docker('image', 'inspect', IMAGE, '--format', '{{json .Config.Entrypoint}} {{json .Config.ExposedPorts}}');
    expect(inspect.stdout).toContain('"--net-from=eth0"');
    expect(inspect.stdout).toContain('"8080/tcp"');
  });

  it('answers a request from the host at the container\'s own address', async () => {
    const response = await get(`http://${SERVER}:8080/`);
    expect(response).toEqual({ status: 200, body: 'hello from a nabla unikernel\n' });
    expect((await get(`http://${SERVER}:8080/nope`)).status).toBe(404);
  });

  it('serves 10,000 keep-alive requests at concurrency 32 with no error', async () => {
    const start = Date.now();
    const { ok, errors } = await keepAliveRequests(`http://${SERVER}:8080/`, 10_000, 32, 'hello from a nabla unikernel\n');
    console.log(`# 10,000 requests at c32 in ${Date.now() - start} ms`);
    expect(errors).toEqual([]);
    expect(ok).toBe(10_000);
  }, 120_000);

  it('the running unikernel holds no capability, has no_new_privs and its seccomp filter', async () => {
    const pid = (await docker('inspect', '-f', '{{.State.Pid}}', CONTAINER)).stdout.trim();
    const status = await execa('cat', [`/proc/${pid}/status`]);
    expect(status.stdout).toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(status.stdout).toMatch(/^CapPrm:\s+0000000000000000$/m);
    expect(status.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status.stdout).toMatch(/^Seccomp:\s+2$/m);
  });

  it('the container\'s kernel no longer answers for the address: the unikernel does, with the MAC Docker gave eth0', async () => {
    const neigh = await execa('ip', ['neigh', 'show', SERVER], { reject: false });
    expect(neigh.stdout).toContain(`lladdr ${await macOf(CONTAINER)}`);
  });

  it('eth0 is joined to the tap by tc redirects, not a bridge: the container has none', async () => {
    const pid = (await docker('inspect', '-f', '{{.State.Pid}}', CONTAINER)).stdout.trim();
    const links = await execa('nsenter', ['-t', pid, '-n', 'ip', '-d', 'link', 'show'], { reject: false });
    expect(links.exitCode, links.stderr).toBe(0);
    expect(links.stdout).toContain('nabla0');
    expect(links.stdout).not.toContain('bridge');
    const filters = await execa('nsenter', ['-t', pid, '-n', 'tc', 'filter', 'show', 'dev', 'eth0', 'ingress'], { reject: false });
    expect(filters.stdout).toContain('mirred (Egress Redirect to device nabla0)');
  });
});

describe('a network whose host end reflects frames (hairpin mode, as podman\'s and many Kubernetes bridges set)', () => {
  // The unikernel ARPs for its gateway to answer a client outside its subnet; the host
  // bridge sends that broadcast back up eth0, and the redirect hands it to the unikernel.
  // (When the tender joined eth0 to the tap with a bridge, a bridge that learned the
  // unikernel's MAC there dropped traffic for it for about a minute: 0 of 10 answered.)
  it('keeps answering a client from outside the subnet', async () => {
    const network = await docker('network', 'inspect', '-f', '{{.Id}}', NETWORK);
    const bridge = `br-${network.stdout.trim().slice(0, 12)}`;
    const ports = fs.readdirSync(`/sys/class/net/${bridge}/brif`);
    const client = '192.0.2.89';
    await execa('ip', ['addr', 'add', `${client}/32`, 'dev', 'lo']);
    try {
      for (const port of ports) fs.writeFileSync(`/sys/class/net/${bridge}/brif/${port}/hairpin_mode`, '1');
      let answered = 0;
      for (let i = 0; i < 10; i++) {
        const curl = await execa('curl', ['-s', '-m', '3', '--interface', client, `http://${SERVER}:8080/`], { reject: false });
        if (curl.stdout === 'hello from a nabla unikernel') answered++; // execa strips the newline
      }
      expect(answered).toBe(10);
    } finally {
      for (const port of ports) fs.writeFileSync(`/sys/class/net/${bridge}/brif/${port}/hairpin_mode`, '0');
      await execa('ip', ['addr', 'del', `${client}/32`, 'dev', 'lo'], { reject: false });
    }
  }, 60_000);
});

describe('a published port (docker run -p)', () => {
  it('reaches the unikernel through Docker\'s port forwarding', async () => {
    const name = `${CONTAINER}-published`;
    await docker('rm', '-f', name);
    const started = await docker('run', '-d', '--name', name, '--network', NETWORK, '-p', '127.0.0.1:18089:8080', ...NET_FLAGS, IMAGE);
    try {
      expect(started.exitCode, started.stderr).toBe(0);
      await waitForLog(name, 'listening on 8080');
      expect(await get('http://127.0.0.1:18089/')).toEqual({ status: 200, body: 'hello from a nabla unikernel\n' });
    } finally {
      await docker('rm', '-f', name);
    }
  });
});

describe('a client in a unikernel, on the container\'s network', () => {
  it('connects to a server on the host side and gets its answer', async () => {
    const server = net.createServer((socket) => {
      socket.on('data', (data) => socket.end(`echo: ${data.toString()}`));
    });
    await new Promise<void>((resolve) => server.listen(0, HOST_SIDE, resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const run = await docker('run', '--rm', '--network', NETWORK, ...NET_FLAGS, CLIENT_IMAGE, 'tcp-echo', HOST_SIDE, String(port), 'ping');
      expect(run.stdout, run.stderr).toContain('echo: ping');
      expect(run.exitCode, run.stderr).toBe(0);
    } finally {
      server.close();
    }
  });
});

describe('DNS in a unikernel on a user-made network', () => {
  // Docker's resolv.conf names its embedded server, 127.0.0.11, on the container's own
  // loopback; the tender relays the unikernel's queries to it (mod_net.c, dnsrelay.c).
  it('resolves another container by name through Docker\'s embedded server, and --add-host names', async () => {
    const run = await docker('run', '--rm', '--network', NETWORK, '--add-host', 'db:10.1.2.3', ...NET_FLAGS, CLIENT_IMAGE,
      'resolve', CONTAINER, 'db');
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${CONTAINER} ${SERVER.replaceAll('.', '\\.')} in \\d+ ms$`));
    expect(lines[1]).toMatch(/^db 10\.1\.2\.3 in \d+ ms$/); // from the container's /etc/hosts
    // Docker's server answers at once: a resolver that reached nobody would wait 5 s per try.
    // (A name nobody has is not asked: this machine's Docker forwards it to an upstream
    // server it cannot reach, and answers only after its own 20 s.)
    for (const line of lines) expect(Number(/in (\d+) ms$/.exec(line)![1])).toBeLessThan(2500);
  });
});

describe('a hostile guest on the container\'s network', () => {
  // nettool writes frames of its own making through the libOS's hypercall code (past its
  // network stack) to the broadcast MAC. The tender's check on the tap lets out only those
  // with the unikernel's MAC and address; the host learns an ARP sender as a neighbour.
  it('frames with another source address or MAC, and ARP claiming another address, never reach the host', async () => {
    const own = '10.89.0.12';
    const foreign = '10.89.0.52'; // nettool's "another address": its own plus 40
    const socket = dgram.createSocket('udp4');
    const got: string[] = [];
    socket.on('message', (message) => got.push(message.toString()));
    await new Promise<void>((resolve) => socket.bind(0, HOST_SIDE, resolve));
    const port = String(socket.address().port);
    await execa('ip', ['neigh', 'flush', 'to', foreign], { reject: false });
    const macs: Record<string, string> = {}; // the unikernel's own in each run: eth0's, as Docker gave it
    try {
      for (const kind of ['own', 'foreign-ip', 'foreign-mac', 'foreign-vlan', 'arp-own', 'arp-foreign-ip']) {
        const run = await docker('run', '--rm', '--network', NETWORK, '--ip', own, ...NET_FLAGS, CLIENT_IMAGE, 'frame', kind, own, HOST_SIDE, port);
        expect(run.stdout, run.stderr).toContain(`wrote ${kind}: `);
        expect(run.exitCode, run.stderr).toBe(0);
        macs[kind] = /^mac (\S+)$/m.exec(run.stdout)?.[1] ?? 'none';
      }
      expect(got).toEqual(['frame own']);
      // The last ARP from the address was arp-own's (arp-foreign-ip's says another address).
      expect((await execa('ip', ['neigh', 'show', 'to', own])).stdout).toContain(`lladdr ${macs['arp-own']}`);
      expect((await execa('ip', ['neigh', 'show', 'to', foreign])).stdout).toBe('');
    } finally {
      socket.close();
    }
  });
});

describe('--cap-add NET_ADMIN alone (Docker\'s default capabilities include MKNOD)', () => {
  it('the tender makes /dev/net/tun itself and serves', async () => {
    const name = `${CONTAINER}-no-device`;
    await docker('rm', '-f', name);
    const started = await docker('run', '-d', '--name', name, '--network', NETWORK, '--ip', '10.89.0.11', '--cap-add', 'NET_ADMIN', IMAGE);
    try {
      expect(started.exitCode, started.stderr).toBe(0);
      await waitForLog(name, 'listening on 8080');
      expect(await get('http://10.89.0.11:8080/')).toEqual({ status: 200, body: 'hello from a nabla unikernel\n' });
      // It still holds no capability once the unikernel runs.
      const pid = (await docker('inspect', '-f', '{{.State.Pid}}', name)).stdout.trim();
      expect((await execa('cat', [`/proc/${pid}/status`])).stdout).toMatch(/^CapEff:\s+0000000000000000$/m);
    } finally {
      await docker('rm', '-f', name);
    }
  });

  it('without MKNOD (--cap-drop ALL --cap-add NET_ADMIN) it says the device is missing and how to give it, exit 125', async () => {
    const run = await docker('run', '--rm', '--network', NETWORK, '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', IMAGE);
    expect(run.exitCode).toBe(125);
    expect(run.stderr).toMatch(/^nabla-run: --net-from=eth0: \/dev\/net\/tun is missing \(the container needs: docker run --cap-add NET_ADMIN --device \/dev\/net\/tun\)$/m);
  });
});

describe('without the flags it needs', () => {
  it('stops with one line naming the docker run flags, exit 125', async () => {
    const run = await docker('run', '--rm', '--network', NETWORK, IMAGE);
    expect(run.exitCode).toBe(125);
    expect(run.stderr).toMatch(/^nabla-run: --net-from=eth0: .*--cap-add NET_ADMIN --device \/dev\/net\/tun/m);
  });

  it('with --network none there is no interface to take: said so', async () => {
    const run = await docker('run', '--rm', '--network', 'none', ...NET_FLAGS, IMAGE);
    expect(run.exitCode).toBe(125);
    expect(run.stderr).toContain('--net-from=eth0: no such interface here');
  });
});
