/**
 * The network end to end: test/native/net/run.sh inside the real c toolchain container,
 * in a network namespace of its own (`--network none`) with CAP_NET_ADMIN and
 * /dev/net/tun, where it makes a tap (10.77.0.1/24). Unikernels built with nabla-cc run on
 * it with `nabla-run --net=tap0 --net-ip=10.77.0.2/24`: a C HTTP server (threads and
 * epoll) answers curl, 10,000 keep-alive requests at concurrency 32 from ab, 3,000
 * one-connection requests and wrk, with 0 errors; a client in the unikernel talks TCP to a
 * server on the host side; UDP goes both ways; frames a hostile guest makes itself leave the
 * tap only when they carry its own MAC and address; strace shows only the whitelisted calls.
 * Then --net-from on a veth pair standing for a container's eth0: the unikernel takes its
 * MAC and MTU, serves through the tc redirects (no bridge), and a hostile guest's frames
 * behind them are dropped the same way.
 * One vitest case per suite case; every case listed here must be there.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { runInToolchain } from '../helpers/native-suite.js';

const TENDER = [
  'tap-setup', 'policy-at-most-11', 'bootinfo-net', 'bootinfo-net-mac', 'net-busy', 'net-tun', 'net-down',
  'net-eacces', 'net-eperm', 'net-tap-made-for-the-user',
];
const ESCAPES = ['read-fd0', 'read-fd5', 'write-fd5', 'epoll-pwait-fd4', 'epoll-ctl', 'socket'].map((c) => `escape-${c}`);
const HTTP = ['threads', 'epoll'].flatMap((mode) => [
  'starts', 'curl', '404-and-3mb', '10000-requests-c32-keepalive', '3000-connections-c32', 'wrk-c32', 'quit-exits-0',
].map((c) => `http-${mode}-${c}`));
const PEERS = [
  'tcp-client-to-the-host', 'tcp-client-refused', 'udp-out-and-back', 'udp-in-and-back', 'udp-server-in-the-unikernel',
  'strace-only-whitelisted-calls',
];
const FRAMES = [
  ...['own', 'foreign-ip', 'foreign-mac', 'foreign-vlan', 'arp-own', 'arp-foreign-ip'].map((kind) => `frame-${kind}-written`),
  'frame-own-arrives', 'frames-from-another-address-or-mac-are-dropped', 'arp-own-arrives',
  'arp-for-another-address-is-dropped',
];
const NET_FROM = [
  'netfrom-takes-the-interfaces-mac-and-mtu', 'netfrom-http-curl', 'netfrom-http-3mb', 'netfrom-http-2000-connections-c32',
  'netfrom-answers-with-the-interfaces-mac', 'netfrom-mirred-not-a-bridge', 'netfrom-host-bulk-send-arrives-whole',
  ...['own', 'foreign-ip', 'foreign-mac', 'foreign-vlan', 'arp-own', 'arp-foreign-ip'].map((kind) => `netfrom-frame-${kind}-written`),
  'netfrom-frame-own-arrives', 'netfrom-frames-from-another-address-or-mac-are-dropped', 'netfrom-arp-own-arrives',
  'netfrom-arp-for-another-address-is-dropped', 'netfrom-refuses-an-interface-no-container-network-gives',
  'netfrom-refused-interface-keeps-its-address-and-no-tap-is-made',
];
const GROUPS: Array<[string, string[]]> = [
  ['the tender with a tap', TENDER], ['escapes with --net', ESCAPES], ['an HTTP server in the unikernel', HTTP],
  ['clients, UDP and strace', PEERS], ['a hostile guest\'s own frames on the tap', FRAMES],
  ['--net-from on a veth pair: the tap joined by tc redirects', NET_FROM],
];
const ALL = GROUPS.flatMap(([, names]) => names);

const out = tempDir('nabla-e2e-net-');
let suite = { exitCode: -1, output: '' };
const cases = new Map<string, { status: string; detail: string }>();

beforeAll(async () => {
  suite = await runInToolchain('bash /src/test/native/net/run.sh /out/net', out, [
    '--network', 'none', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--cap-add', 'SYS_PTRACE',
    '--cap-add', 'SETUID', '--cap-add', 'SETGID',
    '--device', '/dev/net/tun',
  ]);
  for (const line of suite.output.split('\n')) {
    const m = /^(ok|FAIL|skip) +([^:\s]+)(?:: (.*))?$/.exec(line);
    if (m) cases.set(m[2]!, { status: m[1]!, detail: m[3] ?? '' });
  }
  // The numbers (requests/s, p99) go to the test log: one run, not a benchmark.
  const measures = suite.output.split('\n').filter((l) => l.startsWith('# measure'));
  if (measures.length) console.log(measures.join('\n'));
}, 300_000);

afterAll(() => {
  fs.rmSync(out, { recursive: true, force: true });
});

describe('network: the native net suite in the c toolchain container, on a tap', () => {
  it('runs every case listed here (and no other), and closes with the counts', () => {
    expect([...cases.keys()].sort(), suite.output).toEqual([...ALL].sort());
    const last = suite.output.trim().split('\n').at(-1) ?? '';
    expect(last, suite.output).toMatch(/^\d+ passed, 0 failed$/);
    expect(suite.exitCode, suite.output).toBe(0);
  });

  describe.each(GROUPS)('%s', (_group, names) => {
    it.each(names)('%s', (name) => {
      const v = cases.get(name) ?? { status: 'missing', detail: `no line for "${name}" in the suite output` };
      expect(v.status, `${name}: ${v.detail}`).toBe('ok');
    });
  });
});
