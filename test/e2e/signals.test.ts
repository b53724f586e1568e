/**
 * Signals a container gets, end to end: `docker stop` (SIGTERM), `docker kill -s`, reaching
 * C, Python and Go unikernels through the tender, which routes them to the libOS. Without a
 * handler the app ends at once with 128 + the signal, as a killed process does; a relinked
 * app's handler runs (graceful shutdown), also in a loop that makes no calls; a Go program's
 * runtime gets a kernel-style signal frame, so signal.Notify works. Each stop must take well
 * under docker's 10 s grace period.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, writeFiles } from '../helpers/cli.js';
import { LoadedImages, docker, waitForLog } from '../helpers/docker.js';

const work = tempDir('nabla-e2e-signals-');
const images = new LoadedImages();
const containers: string[] = [];
afterAll(async () => {
  if (containers.length > 0) await docker('rm', '-f', ...containers);
  fs.rmSync(work, { recursive: true, force: true });
  await images.removeAll();
});

/** Starts the image detached, waits for `ready` in its logs, sends the signal (docker stop
 * for TERM) and returns the exit code, the logs and how long the stop took. */
async function signalled(image: string, ready: string, signal: 'TERM' | 'INT' | 'USR1') {
  const name = `nabla-e2e-signal-${containers.length}-${process.pid}`;
  containers.push(name);
  const started = await docker('run', '-d', '--name', name, '--network', 'none', image);
  expect(started.exitCode, started.stderr).toBe(0);
  await waitForLog(name, ready);
  const t0 = Date.now();
  const sent = signal === 'TERM' ? await docker('stop', '-t', '8', name) : await docker('kill', '-s', signal, name);
  expect(sent.exitCode, sent.stderr).toBe(0);
  const waited = await docker('wait', name);
  const ms = Date.now() - t0;
  const logs = await docker('logs', name);
  return { exitCode: Number(waited.stdout.trim()), logs: logs.stdout + logs.stderr, ms };
}

const C_WAITS = `#include <stdio.h>
#include <unistd.h>
int main(void) {
  puts("ready");
  fflush(stdout);
  for (;;) sleep(1);
}
`;

const C_GRACEFUL = `#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static volatile sig_atomic_t got;
static void on_signal(int sig) { got = sig; }
int main(int argc, char **argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGUSR1, &sa, 0);
  puts("ready");
  fflush(stdout);
  if (argc > 1) {
    unsigned long spins = 0; /* no system call at all: the tick delivers it */
    while (!got) spins++;
    printf("busy loop stopped by signal %d\\n", got);
    return spins ? 0 : 1;
  }
  while (!got) pause();
  printf("stopping gracefully on signal %d\\n", got);
  return 0;
}
`;

describe('signals from docker', () => {
  it('C without a handler: docker stop ends it at once with 143', async () => {
    const app = writeFiles(path.join(work, 'c-waits'), { 'main.c': C_WAITS });
    await images.build(app, 'nabla-e2e/signal-c-waits:1');
    const stop = await signalled('nabla-e2e/signal-c-waits:1', 'ready', 'TERM');
    expect(stop.exitCode).toBe(143);
    expect(stop.ms).toBeLessThan(5000);
  });

  it('C with a SIGTERM handler: docker stop runs it (pause returns) and the app exits 0', async () => {
    const app = writeFiles(path.join(work, 'c-graceful'), { 'main.c': C_GRACEFUL });
    await images.build(app, 'nabla-e2e/signal-c-graceful:1');
    const stop = await signalled('nabla-e2e/signal-c-graceful:1', 'ready', 'TERM');
    expect(stop.logs).toContain('stopping gracefully on signal 15');
    expect(stop.exitCode).toBe(0);
    expect(stop.ms).toBeLessThan(5000);
  });

  it('C in a loop with no calls: the handler still runs (at the preemption tick)', async () => {
    const app = writeFiles(path.join(work, 'c-busy'), {
      'main.c': C_GRACEFUL,
      'nabla.json': JSON.stringify({ args: ['busy'] }),
    });
    await images.build(app, 'nabla-e2e/signal-c-busy:1');
    const kill = await signalled('nabla-e2e/signal-c-busy:1', 'ready', 'USR1');
    expect(kill.logs).toContain('busy loop stopped by signal 10');
    expect(kill.exitCode).toBe(0);
  });

  it('Python: a SIGTERM handler shuts down cleanly; SIGINT is KeyboardInterrupt; the default SIGTERM is 143', async () => {
    const app = writeFiles(path.join(work, 'python'), {
      'main.py': [
        'import signal, sys, threading, time',
        'if sys.argv[1:] == ["graceful"]:',
        '    def stop(sig, frame):',
        '        print("bye after", signal.Signals(sig).name, flush=True)',
        '        sys.exit(0)',
        '    signal.signal(signal.SIGTERM, stop)',
        'threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()',
        'print("ready", flush=True)',
        'while True:',
        '    time.sleep(60)',
        '',
      ].join('\n'),
    });
    await images.build(app, 'nabla-e2e/signal-python:1');
    const graceful = path.join(work, 'python-graceful');
    fs.cpSync(app, graceful, { recursive: true });
    fs.writeFileSync(path.join(graceful, 'nabla.json'), JSON.stringify({ args: ['graceful'] }));
    await images.build(graceful, 'nabla-e2e/signal-python-graceful:1');

    const stop = await signalled('nabla-e2e/signal-python-graceful:1', 'ready', 'TERM');
    expect(stop.logs).toContain('bye after SIGTERM');
    expect(stop.exitCode).toBe(0);
    expect(stop.ms).toBeLessThan(5000);

    const interrupt = await signalled('nabla-e2e/signal-python:1', 'ready', 'INT');
    expect(interrupt.logs).toContain('KeyboardInterrupt');
    expect(interrupt.exitCode).toBe(130); /* CPython re-raises SIGINT with its default action */

    const killed = await signalled('nabla-e2e/signal-python:1', 'ready', 'TERM');
    expect(killed.exitCode).toBe(143);
    expect(killed.ms).toBeLessThan(5000);
  });

  it('Go (trap path): without signal.Notify docker stop ends it with 143; with it, the app shuts down gracefully', async () => {
    const app = writeFiles(path.join(work, 'go'), {
      'go.mod': 'module waits\n\ngo 1.23\n',
      'main.go': [
        'package main',
        '',
        'import (',
        '\t"fmt"',
        '\t"os"',
        '\t"os/signal"',
        '\t"syscall"',
        '\t"time"',
        ')',
        '',
        'func main() {',
        '\tif len(os.Args) > 1 {',
        '\t\tstop := make(chan os.Signal, 1)',
        '\t\tsignal.Notify(stop, syscall.SIGTERM, os.Interrupt)',
        '\t\tticks := 0',
        '\t\tfor {',
        '\t\t\tselect {',
        '\t\t\tcase sig := <-stop:',
        '\t\t\t\tfmt.Printf("shutting down on %v (ticked: %v)\\n", sig, ticks > 0)',
        '\t\t\t\treturn',
        '\t\t\tcase <-time.After(50 * time.Millisecond):',
        '\t\t\t\tif ticks++; ticks == 1 {',
        '\t\t\t\t\tfmt.Println("ready") // timers run before the signal comes',
        '\t\t\t\t}',
        '\t\t\t}',
        '\t\t}',
        '\t}',
        '\tfmt.Println("ready")',
        '\tfor {',
        '\t\ttime.Sleep(time.Second)',
        '\t}',
        '}',
        '',
      ].join('\n'),
    });
    await images.build(app, 'nabla-e2e/signal-go:1');
    const stop = await signalled('nabla-e2e/signal-go:1', 'ready', 'TERM');
    expect(stop.exitCode).toBe(143);
    expect(stop.ms).toBeLessThan(5000);

    const graceful = path.join(work, 'go-graceful');
    fs.cpSync(app, graceful, { recursive: true });
    fs.writeFileSync(path.join(graceful, 'nabla.json'), JSON.stringify({ args: ['graceful'] }));
    await images.build(graceful, 'nabla-e2e/signal-go-graceful:1');
    const notified = await signalled('nabla-e2e/signal-go-graceful:1', 'ready', 'TERM');
    expect(notified.logs).toContain('shutting down on terminated (ticked: true)');
    expect(notified.exitCode).toBe(0);
    expect(notified.ms).toBeLessThan(5000);
  });
});
