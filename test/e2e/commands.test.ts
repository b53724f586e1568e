/** The smaller commands against the real engine: toolchain ls, doctor, --help for every command. */
import { describe, expect, it } from 'vitest';
import { nabla } from '../helpers/cli.js';
import { hostHasFsgsbase } from '../helpers/host.js';

describe('commands', () => {
  it('toolchain ls shows each toolchain with its hash tag and status', async () => {
    const result = await nabla(['toolchain', 'ls']);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME +LANGUAGES +IMAGE +STATUS +DESCRIPTION$/);
    expect(lines.find((l) => l.startsWith('c '))).toMatch(/^c +c +nabla\/toolchain-c:[0-9a-f]{16} +built +C apps/);
  });

  it('doctor passes on this machine and says what it found', async () => {
    const result = await nabla(['doctor']);
    expect(result.stdout).toMatch(/✔ docker engine +Docker \d+\.\d+/);
    expect(result.stdout).toMatch(/✔ base image +nabla\/debian:bookworm/);
    // Information either way: a host without FSGSBASE gets one more pinned host call.
    expect(result.stdout).toMatch(hostHasFsgsbase() ? /✔ fsgsbase +available/ : /✔ fsgsbase +not on this host: .*arch_prctl\(ARCH_SET_FS\)/);
    expect(result.stdout).toMatch(/✔ seccomp/);
    expect(result.exitCode).toBe(0);
  });

  it('doctor fails with a fix when the engine is gone', async () => {
    const result = await nabla(['doctor'], { env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(result.stdout).toMatch(/✖ docker engine .*\n +fix: start dockerd/);
    expect(result.exitCode).toBe(3);
  });

  it.each([['build'], ['toolchain', 'ls'], ['toolchain', 'build'], ['toolchain', 'bootstrap'], ['inspect'], ['doctor'], ['init'], ['run'], ['k8s'], ['measure']])(
    '%s --help shows an example',
    async (...command) => {
      const result = await nabla([...command, '--help']);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/Examples?:\n +\$ (sudo )?nabla-build /);
    },
  );

  it('an unknown command or flag is a usage error', async () => {
    expect((await nabla(['biuld'])).exitCode).toBe(2);
    const flag = await nabla(['build', '--lod']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--lod'/);
  });
});
