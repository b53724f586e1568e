/**
 * podman (Debian bookworm's 4.3, rootful) runs nabla images as `docker run` does: images
 * built with the CLI are copied from the Docker engine into podman's storage with skopeo,
 * then a hello prints its greeting, an escape attempt still dies by SIGSYS (159), and the
 * HTTP server answers the host on a podman network with the same two flags Docker needs
 * (`--cap-add NET_ADMIN --device /dev/net/tun`).
 *
 * Two things about podman itself, on machines of this kind (see README "With podman"):
 * - rootful podman 4.3 asks the runtime for RLIMIT_NOFILE 1048576 (and, once any --ulimit
 *   is given, RLIMIT_NPROC 1048576 too); without CAP_SYS_RESOURCE nothing may raise a hard
 *   limit, so every container fails (`setrlimit ...: Operation not permitted`) unless both
 *   limits are given at or under the host's: ULIMITS below.
 * - crun 1.8 refuses every container on a hybrid cgroup host whose cgroup2 hierarchy has a
 *   controller ("cgroups in hybrid mode not supported"); where it does, runc is used.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { LoadedImages, httpGet, waitForLog } from '../helpers/docker.js';

const podman = (...args: string[]) => execa('podman', args, { reject: false });
const installed = execaSync('podman', ['--version'], { reject: false }).exitCode === 0;

const HELLO = 'nabla-e2e/podman-hello:1';
const HTTP = 'nabla-e2e/podman-http:1';
const ESCAPE = 'nabla-e2e/podman-escape:1';
const inPodman = (image: string) => `localhost/${image}`;

// At or under any usual host's hard limits (4096 is the kernel's default hard NOFILE).
const ULIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];
const NET_FLAGS = ['--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun'];
const SIGSYS_EXIT = 128 + 31;
const BODY = 'hello from a nabla unikernel\n';

// A network made the usual way (CNI bridge, with iptables masquerading).
const NETWORK = 'nabla-e2e-podman';
const SUBNET = '10.86.0.0/24';
const SERVER = '10.86.0.10';
// A CNI network written by hand: a bridge without masquerading, firewall or port mapping,
// so no iptables at all, and without hairpin mode (see the test using it).
const PLAIN_NETWORK = 'nabla-e2e-podman-plain';
const PLAIN_SERVER = '10.85.0.10';
const PLAIN_CONFLIST = {
  cniVersion: '0.4.0',
  name: PLAIN_NETWORK,
  plugins: [
    {
      type: 'bridge',
      bridge: 'cni-nabla-e2e',
      isGateway: true,
      ipMasq: false,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.85.0.0/24', gateway: '10.85.0.1' }]], routes: [{ dst: '0.0.0.0/0' }] },
      capabilities: { ips: true },
    },
  ],
};

/** podman's flags for every run here: the rlimits, and the runtime when crun cannot run. */
let runFlags = [...ULIMITS];
const containers: string[] = [];
const images = new LoadedImages();

/** Hard RLIMIT_NOFILE of this process, and whether it holds CAP_SYS_RESOURCE (may raise it). */
function hostLimits(): { hardNofile: number; capSysResource: boolean } {
  const limits = fs.readFileSync('/proc/self/limits', 'utf8');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1] ?? 'unlimited';
  const capEff = /^CapEff:\s+([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return { hardNofile: hard === 'unlimited' ? Infinity : Number(hard), capSysResource: ((BigInt(`0x${capEff}`) >> 24n) & 1n) === 1n };
}

/**
 * CNI's bridge plugin, on teardown, removes the masquerade rule of each address it finds on
 * the container's eth0; the tender moved that address to the unikernel, so the rule and its
 * chain stay behind. Removes those of one network; returns how many rules it removed.
 */
async function removeLeftoverMasquerade(network: string): Promise<number> {
  const rules = await execa('iptables', ['-t', 'nat', '-S', 'POSTROUTING'], { reject: false });
  let removed = 0;
  for (const line of String(rules.stdout).split('\n')) {
    const match = /^-A POSTROUTING -s (\S+) -m comment --comment "name: \\"([^"\\]+)\\" id: \\"([0-9a-f]+)\\"" -j (\S+)$/.exec(line);
    const [, source, name, id, chain] = match ?? [];
    if (name !== network || !source || !id || !chain) continue;
    const comment = `name: "${network}" id: "${id}"`;
    await execa('iptables', ['-t', 'nat', '-D', 'POSTROUTING', '-s', source, '-m', 'comment', '--comment', comment, '-j', chain], { reject: false });
    await execa('iptables', ['-t', 'nat', '-F', chain], { reject: false });
    await execa('iptables', ['-t', 'nat', '-X', chain], { reject: false });
    removed++;
  }
  return removed;
}

/** One of this host's IPv4 addresses outside a /24 (the unikernel answers it through its gateway). */
function addressOutside(subnetPrefix: string): string {
  const addresses = Object.values(os.networkInterfaces()).flatMap((list) => list ?? []);
  const found = addresses.find((a) => a.family === 'IPv4' && !a.internal && !a.address.startsWith(subnetPrefix));
  if (!found) throw new Error('this host has no IPv4 address besides loopback');
  return found.address;
}

/** Starts the HTTP server detached on a network at an address; returns its container id. */
async function startServer(name: string, network: string, ip: string): Promise<string> {
  await podman('rm', '-f', name);
  const started = await podman('run', '-d', '--name', name, ...runFlags, '--network', network, '--ip', ip, ...NET_FLAGS, inPodman(HTTP));
  expect(started.exitCode, started.stderr).toBe(0);
  const id = started.stdout.trim();
  containers.push(id);
  await waitForLog(id, 'listening on 8080', 20_000, 'podman');
  return id;
}

describe.skipIf(!installed)(`podman run${installed ? '' : ' (skipped: podman is not installed; scripts/setup-host.sh installs it)'}`, () => {
  beforeAll(async () => {
    await images.build(path.join(repoRoot, 'examples', 'hello-c'), HELLO);
    await images.build(path.join(repoRoot, 'examples', 'http-c'), HTTP);
    await images.build(path.join(repoRoot, 'test', 'fixtures', 'escape-c'), ESCAPE);
    for (const image of [HELLO, HTTP, ESCAPE]) {
      const copy = await execa('skopeo', ['copy', '-q', `docker-daemon:${image}`, `containers-storage:${inPodman(image)}`], { reject: false });
      expect(copy.exitCode, copy.stderr).toBe(0);
    }
    // podman's default runtime (crun where installed) may refuse this host's cgroups: then runc.
    const probe = await podman('run', '--rm', ...runFlags, '--network', 'none', inPodman(HELLO));
    if (probe.exitCode !== 0 && probe.stderr.includes('cgroups in hybrid mode not supported')) {
      console.log(`# podman's default runtime refuses this host (${probe.stderr.trim().split('\n').pop()}): using --runtime runc`);
      runFlags = [...ULIMITS, '--runtime', 'runc'];
    }
    await podman('network', 'rm', '-f', NETWORK, PLAIN_NETWORK);
    const made = await podman('network', 'create', '--subnet', SUBNET, NETWORK);
    expect(made.exitCode, made.stderr).toBe(0);
    // podman 4.3's CNI networks are files in /etc/cni/net.d (what `podman network create` writes).
    fs.writeFileSync(path.join('/etc/cni/net.d', `${PLAIN_NETWORK}.conflist`), JSON.stringify(PLAIN_CONFLIST, null, 2));
  }, 300_000);

  afterAll(async () => {
    for (const id of containers.splice(0)) await podman('rm', '-f', id);
    const removed = await removeLeftoverMasquerade(NETWORK);
    if (removed > 0) console.log(`# removed ${removed} masquerade rule(s) CNI left behind on ${NETWORK}`);
    await podman('network', 'rm', '-f', NETWORK, PLAIN_NETWORK);
    // host-local's address bookkeeping, which `podman network rm` leaves.
    for (const name of [NETWORK, PLAIN_NETWORK]) fs.rmSync(path.join('/var/lib/cni/networks', name), { recursive: true, force: true });
    await podman('rmi', '-f', ...[HELLO, HTTP, ESCAPE].map(inPodman));
    await images.removeAll();
  });

  it('the rlimits: without --ulimit, refused where the hard NOFILE is under podman\'s 1048576 and CAP_SYS_RESOURCE is missing', async () => {
    const { hardNofile, capSysResource } = hostLimits();
    const flags = runFlags.filter((flag, i) => !(flag === '--ulimit' || runFlags[i - 1] === '--ulimit'));
    const run = await podman('run', '--rm', ...flags, '--network', 'none', inPodman(HELLO));
    if (hardNofile < 1_048_576 && !capSysResource) {
      expect(run.exitCode).not.toBe(0);
      expect(run.stderr).toMatch(/rlimit/i);
    } else {
      expect(run.exitCode, run.stderr).toBe(0);
    }
  });

  it('hello-c with --network none prints its greeting and exits 0', async () => {
    const run = await podman('run', '--rm', ...runFlags, '--network', 'none', inPodman(HELLO));
    expect(run.stdout).toBe('Hello from a nabla-build image!');
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('an escape attempt (the libOS\'s own host call, misused) is still killed by SIGSYS', async () => {
    const run = await podman('run', '--rm', ...runFlags, '--network', 'none', inPodman(ESCAPE), 'hypercall-write-fd3');
    expect(run.stdout).not.toContain('SURVIVED');
    expect(run.exitCode, run.stderr).toBe(SIGSYS_EXIT);
  });

  it('http-c on a network made with `podman network create` answers the host at its address', async () => {
    const id = await startServer('nabla-e2e-podman-http', NETWORK, SERVER);
    expect(await httpGet(`http://${SERVER}:8080/`)).toEqual({ status: 200, body: BODY });
    expect((await httpGet(`http://${SERVER}:8080/nope`)).status).toBe(404);
    // As under Docker: the unikernel holds no capability and runs under its filter.
    const pid = (await podman('inspect', '-f', '{{.State.Pid}}', id)).stdout.trim();
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status).toMatch(/^Seccomp:\s+2$/m);
  });

  it('http-c on a hand-written CNI network with no iptables at all answers the host too, also from another subnet', async () => {
    const backend = (await podman('info', '--format', '{{.Host.NetworkBackend}}')).stdout.trim();
    expect(backend, 'the hand-written network is a CNI conflist').toBe('cni');
    await startServer('nabla-e2e-podman-http-plain', PLAIN_NETWORK, PLAIN_SERVER);
    expect(await httpGet(`http://${PLAIN_SERVER}:8080/`)).toEqual({ status: 200, body: BODY });
    // From an address outside the subnet, the unikernel answers through its gateway, which it
    // first asks for by ARP broadcast. On a hairpin-mode bridge (podman's networks) that
    // broadcast comes back up eth0, the container's bridge learns the unikernel's MAC there
    // and drops what is sent to it (README "With podman"); on this one it must not.
    const agent = new http.Agent({ localAddress: addressOutside('10.85.0.') });
    try {
      expect(await httpGet(`http://${PLAIN_SERVER}:8080/`, agent)).toEqual({ status: 200, body: BODY });
    } finally {
      agent.destroy();
    }
  });

  it('without the flags it needs, it stops with the tender\'s one line, exit 125', async () => {
    const run = await podman('run', '--rm', ...runFlags, '--network', NETWORK, inPodman(HTTP));
    expect(run.exitCode).toBe(125);
    expect(run.stderr).toMatch(/^nabla-run: --net-from=eth0: .*--cap-add NET_ADMIN --device \/dev\/net\/tun/m);
  });
});
