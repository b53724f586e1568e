/**
 * Named AF_UNIX sockets, all inside the unikernel (libOS unix.c), under
 * `docker run --network none`: a C app (relinked, libOS-musl) and a Go app (the trap path,
 * Go's raw system calls with the ABI's 64-bit msghdr lengths) serve on a socket file, send
 * datagrams between abstract names and pass a file with SCM_RIGHTS.
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

describe('named AF_UNIX sockets', () => {
  it('C: an echo server on a socket file, datagrams between abstract names, a file passed', async () => {
    await images.build(fixture('unix-c'), 'nabla-e2e/unix-c:1');
    const result = await runImage('nabla-e2e/unix-c:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'stream echo: 1000 messages over /tmp/echo.sock',
      "datagrams: 3 between abstract names, with the sender's name",
      'scm_rights: the passed fd reads "passed along", at the sender\'s offset',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('Go: net/http over a unix socket, unixgram between abstract names, UnixRights', async () => {
    await images.build(fixture('unix-go'), 'nabla-e2e/unix-go:1');
    const result = await runImage('nabla-e2e/unix-go:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'http over unix: 200 requests from 20 goroutines',
      'datagrams: 3 between abstract names, from @go-a',
      'scm_rights: the passed fd reads "passed along"',
    ]);
    expect(result.exitCode).toBe(0);
  });
});
