/**
 * Both ways the libOS sets thread pointers, end to end (issue: run on every x86-64 host).
 * The same images run under `docker run` with NABLA_FS_BASE=cpu (wrfsbase, no host call;
 * only where the host has FSGSBASE) and NABLA_FS_BASE=host-call (the pinned
 * arch_prctl(ARCH_SET_FS) hypercall, what hosts without FSGSBASE get): C pthreads, Go
 * goroutines, Python threads and a threaded HTTP server on the container's network must
 * give the same answers in both. The escape suite runs in both modes in escape.test.ts,
 * the native suites in libos-native.test.ts and tender.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { LoadedImages, docker, keepAliveRequests, waitForLog } from '../helpers/docker.js';
import { FS_BASE_MODES, hostHasFsgsbase } from '../helpers/host.js';

const work = tempDir('nabla-e2e-fs-base-');
const images = new LoadedImages();
const C_THREADS = 'nabla-e2e/fsb-threads-c:1';
const GO = 'nabla-e2e/fsb-goroutines-go:1';
const PYTHON = 'nabla-e2e/fsb-threads-python:1';
const HTTP = 'nabla-e2e/fsb-http-c:1';
const NETWORK = 'nabla-e2e-fsb';
const SUBNET = '10.91.0.0/24';
const SET_FS_LABEL = 'arch_prctl code=ARCH_SET_FS [only on hosts without FSGSBASE, or with NABLA_FS_BASE=host-call]';

beforeAll(async () => {
  const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);
  await images.build(fixture('threads-c'), C_THREADS);
  await images.build(fixture('goroutines-go'), GO);
  await images.build(
    writeFiles(path.join(work, 'threads-python'), {
      'main.py': [
        'import queue, threading',
        'q, lock, total, all_here = queue.Queue(), threading.Lock(), [0], threading.Barrier(8)',
        'def work(n):',
        '    all_here.wait()  # all 8 alive at once: each with its own identity',
        '    for i in range(1, 2001):',
        '        with lock:',
        '            total[0] += i * n',
        '    q.put(threading.get_ident())',
        'threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 9)]',
        '[t.start() for t in threads]; [t.join() for t in threads]',
        'print("python threads:", total[0], len({q.get() for _ in threads}))',
        '',
      ].join('\n'),
    }),
    PYTHON,
  );
  await images.build(path.join(repoRoot, 'examples', 'http-c'), HTTP);
  await docker('network', 'rm', NETWORK);
  const made = await docker('network', 'create', '--subnet', SUBNET, NETWORK);
  expect(made.exitCode, made.stderr).toBe(0);
}, 900_000);

afterAll(async () => {
  await docker('rm', '-f', 'nabla-e2e-fsb-http-cpu', 'nabla-e2e-fsb-http-host-call');
  await docker('network', 'rm', NETWORK);
  await images.removeAll();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the image records every host\'s policy, whichever machine built it', () => {
  test.each([C_THREADS, GO, PYTHON, HTTP])('%s: dev.nabla.syscalls marks arch_prctl as only some hosts\'', async (image) => {
    const label = await docker('image', 'inspect', image, '--format', '{{index .Config.Labels "dev.nabla.syscalls"}}');
    const calls = label.stdout.trim().split('; ');
    expect(calls).toContain(SET_FS_LABEL);
    expect(calls.filter((c) => c.startsWith('arch_prctl'))).toHaveLength(1);
  });

  test('the tender in the image prints this host\'s policy: arch_prctl only where FSGSBASE is missing', async () => {
    const policy = await docker('run', '--rm', '--network', 'none', '--entrypoint', '/nabla/nabla-run', C_THREADS, '--print-policy');
    expect(policy.exitCode, policy.stderr).toBe(0);
    expect(policy.stdout.includes('arch_prctl code=ARCH_SET_FS')).toBe(!hostHasFsgsbase());
    expect(policy.stdout).not.toContain('[only on');
  });
});

describe.each(FS_BASE_MODES)('apps with threads, FS base by $mode', ({ mode, runs }) => {
  const it = test.skipIf(!runs);
  const run = (image: string) => docker('run', '--rm', '--network', 'none', '-e', `NABLA_FS_BASE=${mode}`, image);

  it('C: 4 pthreads with a mutex and a condition variable, joined', async () => {
    const result = await run(C_THREADS);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('counter=4000 joined=60');
    expect(result.exitCode).toBe(0);
  });

  it('Go: goroutines, channels, timers and a WaitGroup compute the known result', async () => {
    const result = await run(GO);
    expect(result.stdout).toBe('goroutines: sum=2686700 handled=200 workers=8 echoed=100');
    expect(result.exitCode, result.stderr).toBe(0);
  });

  it('Python: 8 threads meet at a barrier, then add under a lock', async () => {
    const result = await run(PYTHON);
    expect(result.stdout).toBe('python threads: 72036000 8'); // (1+…+8) × (1+…+2000)
    expect(result.exitCode, result.stderr).toBe(0);
  });

  it('a threaded HTTP server on the container\'s network serves 2,000 keep-alive requests at c16', async () => {
    const name = `nabla-e2e-fsb-http-${mode}`;
    const ip = mode === 'cpu' ? '10.91.0.10' : '10.91.0.11';
    await docker('rm', '-f', name);
    const started = await docker('run', '-d', '--name', name, '--network', NETWORK, '--ip', ip, '-e', `NABLA_FS_BASE=${mode}`,
      '--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun', HTTP);
    expect(started.exitCode, started.stderr).toBe(0);
    await waitForLog(name, 'listening on 8080');
    const { ok, errors } = await keepAliveRequests(`http://${ip}:8080/`, 2000, 16, 'hello from a nabla unikernel\n');
    expect(errors).toEqual([]);
    expect(ok).toBe(2000);
    await docker('rm', '-f', name);
  }, 120_000);
});
