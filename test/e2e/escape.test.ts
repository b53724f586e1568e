/**
 * Escape attempts from a unikernel built by nabla-build and run with a plain `docker run`:
 * system calls through libc are answered inside the libOS; raw `syscall` instructions in
 * the app are trapped by the tender's filter and refused by the libOS the same way; the
 * libOS's own host calls, misused, kill the process with SIGSYS (exit 159) before the
 * host acts. All of it in both FS-base modes (NABLA_FS_BASE, as a user would set it): the
 * host-call mode allows one more call, arch_prctl(ARCH_SET_FS), and nothing else with it.
 * The same from Node.js (the official binary, unchanged, on the trap path): child
 * processes, the container's files, Node's bindings and internals, WebAssembly, and a
 * native addon of the app's own making raw system calls (test/fixtures/escape-node).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { docker, waitForLog } from '../helpers/docker.js';
import { FS_BASE_MODES } from '../helpers/host.js';
import { runInToolchain } from '../helpers/native-suite.js';

const IMAGE = 'nabla-e2e/escape:1';
const SIGSYS_EXIT = 128 + 31;

beforeAll(async () => {
  const build = await nabla(['build', path.join(repoRoot, 'test', 'fixtures', 'escape-c'), '--load', '-t', IMAGE]);
  expect(build.exitCode, build.stderr).toBe(0);
});
afterAll(async () => {
  await execa('docker', ['rmi', '-f', IMAGE], { reject: false });
});

describe.each(FS_BASE_MODES)('escape attempts, FS base by $mode', ({ mode, runs }) => {
  const run = (...args: string[]) =>
    execa('docker', ['run', '--rm', '--network', 'none', '-e', `NABLA_FS_BASE=${mode}`, IMAGE, ...args], { reject: false });
  const it = test.skipIf(!runs);

  it('host files outside the image are invisible, and so is the tender itself', async () => {
    const result = await run('host-file');
    expect(result.stdout.split('\n')).toEqual([
      '/.dockerenv: No such file or directory',
      '/proc/1/root/.dockerenv: No such file or directory',
      '/proc/self/status: No such file or directory',
      '/nabla/nabla-run: No such file or directory',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('fork fails without making a host process', async () => {
    const result = await run('fork');
    expect(result.stdout).toBe('fork: Function not implemented');
    expect(result.exitCode).toBe(0);
  });

  it('a stack overflow hits the guard page (SIGSEGV) instead of running into the heap', async () => {
    const result = await run('stack-overflow');
    expect(result.stdout).not.toContain('depth');
    expect(result.exitCode).toBe(128 + 11);
  });

  it('a write past the heap, where nothing is mapped, faults (SIGSEGV): the host gives it no memory', async () => {
    const result = await run('write-past-heap');
    expect(result.stdout).not.toContain('wrote past the heap');
    expect(result.exitCode).toBe(128 + 11);
  });

  // What each raw call gets from the libOS (as -errno, or 1 for a value it served).
  it.each([
    ['raw-openat', -2], // ENOENT: the container's /.dockerenv is not in the image
    ['raw-execve', -38], // ENOSYS: no processes
    ['raw-socket', 1], // a socket of the libOS's own TCP/IP stack (only loopback here), no host socket
    ['raw-ptrace', -38],
    ['raw-mount', -38],
    ['raw-bpf', -38],
    ['raw-io_uring_setup', -38],
    ['raw-write-fd3', -9], // EBADF: fd 3 is the tender's disk, not one of the app's fds
    ['raw-mmap', 1], // guest memory from the libOS, not a host mapping
    ['raw-clock-cputime', -14], // served (from the monotonic clock) into no buffer: EFAULT, as Linux says
    ['raw-arch-prctl-set-gs', -22], // EINVAL: the libOS serves ARCH_SET_FS/GET_FS only
  ])('%s is trapped and answered inside the libOS', async (name, value) => {
    const result = await run(name);
    expect(result.stdout).toBe(`${name}: returned ${value}`);
    expect(result.exitCode).toBe(0);
  });

  it('a socket without a network says nothing: the no-network hint is for servers on 0.0.0.0 (loopback.test.ts)', async () => {
    const result = await run('raw-socket');
    expect(result.stdout).toBe('raw-socket: returned 1');
    expect(result.stderr).toBe('');
  });

  it('raw kill(1, SIGKILL) ends only the unikernel itself', async () => {
    const result = await run('raw-kill');
    expect(result.stdout).toBe('');
    expect(result.exitCode).toBe(128 + 9);
  });

  it.each(['hypercall-write-fd3', 'hypercall-gadget-execve', 'hypercall-gadget-arch-prctl-get-fs',
    'hypercall-gadget-arch-prctl-set-gs'])('%s is killed by SIGSYS', async (name) => {
    const result = await run(name);
    expect(result.stdout).not.toContain('SURVIVED');
    expect(result.exitCode).toBe(SIGSYS_EXIT);
  });

  it(`the libOS's own FS-base host call is ${mode === 'host-call' ? 'allowed' : 'killed by SIGSYS'} in this mode`, async () => {
    const result = await run('hypercall-set-fs');
    if (mode === 'host-call') {
      expect(result.stdout).toBe('hypercall-set-fs: allowed, returned 0');
      expect(result.exitCode).toBe(0);
    } else {
      expect(result.stdout).toBe('');
      expect(result.exitCode).toBe(SIGSYS_EXIT);
    }
  });
});

describe('no core files of guest memory', () => {
  // With a core limit (`--ulimit core=-1`, or a daemon started with LimitCORE=infinity) the
  // kernel would write the guest's memory as root into the working directory, or hand it to
  // the host's crash handler. The tender is not dumpable and sets RLIMIT_CORE to 0.
  test.each([
    ['hypercall-write-fd3', SIGSYS_EXIT], // the filter's own kill
    ['stack-overflow', 128 + 11], // SIGSEGV
  ])('%s under --ulimit core=-1 leaves no core file in the container', async (name, status) => {
    const container = `nabla-e2e-core-${name}`;
    await execa('docker', ['rm', '-f', container], { reject: false });
    const run = await execa('docker', ['run', '--name', container, '--network', 'none', '--ulimit', 'core=-1', IMAGE, name],
      { reject: false });
    expect(run.exitCode).toBe(status);
    const diff = await execa('docker', ['diff', container], { reject: false });
    await execa('docker', ['rm', '-f', container], { reject: false });
    expect(diff.exitCode, diff.stderr).toBe(0);
    expect(diff.stdout.split('\n').filter((line) => /core/.test(line))).toEqual([]);
  });
});

describe('a NABLA note of the app\'s own', () => {
  // It names the hypercall range and the trap handler the tender wires up: an app linked
  // before the libOS could bring one that wins. The build refuses two; so does nabla-run.
  test('fails the build, naming the cause', async () => {
    const app = writeFiles(tempDir('nabla-e2e-note-'), {
      'main.c': [
        '__asm__(".pushsection .note.nabla, \\"a\\", @note\\n.balign 4\\n.long 6, 56, 1\\n.asciz \\"NABLA\\"\\n"',
        '        ".balign 4\\n.long 3, 0\\n.quad 0, 0, 0, 0, 0, 0\\n.popsection");',
        'int main(void) { return 0; }',
        '',
      ].join('\n'),
    });
    const build = await nabla(['build', app, '-o', `type=dir,dest=${app}/out`]);
    fs.rmSync(app, { recursive: true, force: true });
    expect(build.stderr).toMatch(/nabla-compile: "[^"]+" holds 2 NABLA notes: only the libOS may have one/);
    expect(build.exitCode).toBe(4);
  });
});

describe('escape attempts from Node.js (trap path)', () => {
  const NODE_IMAGE = 'nabla-e2e/escape-node:1';
  // Docker writes the container's name into its /etc/hostname: the tender hands that over
  // (as the host name, and a copy of the file), nothing else of the container's.
  // ever shows in what the guest prints, it read a file of the container.
  const HOSTNAME = 'escape-node-container';
  const work = tempDir('nabla-e2e-escape-node-');
  let entrypoint: string[] = []; // the tender, its flags and /nabla/node, without the script
  let nodeSha256 = '';

  beforeAll(async () => {
    // The addon (rawsys.c) is built in the c toolchain image, into a copy of the fixture.
    const app = path.join(work, 'app');
    fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'escape-node'), app, { recursive: true });
    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    const gcc = await runInToolchain('gcc -shared -fPIC -nostdlib -O2 -Wall -Wextra -Werror ' +
      '-o /out/rawsys.node /src/test/fixtures/escape-node/rawsys.c', out);
    expect(gcc.exitCode, gcc.output).toBe(0);
    fs.copyFileSync(path.join(out, 'rawsys.node'), path.join(app, 'rawsys.node'));
    const build = await nabla(['build', app, '--load', '-t', NODE_IMAGE]);
    expect(build.exitCode, build.stderr).toBe(0);
    const inspect = await docker('image', 'inspect', NODE_IMAGE, '--format', '{{json .Config.Entrypoint}}');
    entrypoint = (JSON.parse(inspect.stdout) as string[]).slice(0, -1);
    expect(entrypoint.at(-1)).toBe('/nabla/node');
    // The image's node binary, as the guest should see it at /proc/self/exe.
    const created = await docker('create', NODE_IMAGE);
    await docker('cp', `${created.stdout}:/nabla/node`, path.join(work, 'node'));
    await docker('rm', created.stdout);
    nodeSha256 = crypto.createHash('sha256').update(fs.readFileSync(path.join(work, 'node'))).digest('hex');
  }, 900_000);
  afterAll(async () => {
    fs.rmSync(work, { recursive: true, force: true });
    await execa('docker', ['rmi', '-f', NODE_IMAGE], { reject: false });
  });

  describe.each(FS_BASE_MODES)('FS base by $mode', ({ mode, runs }) => {
    const it = test.skipIf(!runs);
    const container = `nabla-e2e-escape-node-${mode}`;
    /** `node [nodeFlags] /app/main.js ...args` in the image (the entrypoint's script swapped). */
    const node = (args: string[], { nodeFlags = [] as string[], dockerFlags = ['--rm'] } = {}) =>
      docker('run', '--network', 'none', '--hostname', HOSTNAME, '-e', `NABLA_FS_BASE=${mode}`, ...dockerFlags,
        '--entrypoint', entrypoint[0]!, NODE_IMAGE, ...entrypoint.slice(1), ...nodeFlags, '/app/main.js', ...args);
    const lines = (result: { stdout: string }) => result.stdout.split('\n');

    it('child_process and fork fail with ENOSYS, and the container holds no process but the tender', async () => {
      await docker('rm', '-f', container);
      const started = await node(['processes', '--then-wait'], { dockerFlags: ['-d', '--name', container] });
      expect(started.exitCode, started.stderr).toBe(0);
      try {
        await waitForLog(container, 'waiting for SIGTERM', 60_000);
        // From outside: every process in the container's cgroup.
        const top = await docker('top', container, '-o', 'pid,args');
        expect(top.exitCode, top.stderr).toBe(0);
        const processes = top.stdout.split('\n').slice(1);
        expect(processes).toHaveLength(1);
        expect(processes[0]).toMatch(/^\s*\d+\s+\/nabla\/nabla-run .*\/app\/main\.js processes --then-wait$/);
        expect((await docker('stop', '-t', '20', container)).exitCode).toBe(0);
        const logs = await docker('logs', container);
        expect(logs.stderr).toBe('');
        expect(lines(logs)).toEqual([
          'spawnSync /bin/sh: ENOSYS',
          'spawnSync node: ENOSYS',
          'execSync: ENOSYS',
          'execFileSync node: ENOSYS',
          'spawn /bin/sh: ENOSYS',
          'spawn node: ENOSYS',
          'exec: ENOSYS',
          'fork: ENOSYS',
          'spawn detached: ENOSYS',
          'waiting for SIGTERM',
        ]);
        expect((await docker('inspect', container, '--format', '{{.State.ExitCode}}')).stdout).toBe('0');
      } finally {
        await docker('rm', '-f', container);
      }
    }, 120_000);

    it('the container\'s files stay invisible by every road, and writes never reach them (docker diff)', async () => {
      await docker('rm', '-f', container);
      const result = await node(['files'], { dockerFlags: ['--name', container] });
      try {
        expect(result.stderr).toBe('');
        expect(result.exitCode).toBe(0);
        expect(lines(result)).toEqual([
          ...['/.dockerenv', '/proc/1/root/.dockerenv', '/proc/self/root/.dockerenv',
            '/proc/self/root/..', '/proc/1/cwd/nabla/rootfs.tar', '/proc/self/fd/3', '/proc/self/environ',
            '/proc/self/status', '/proc/self/maps', '/proc/self/mem', '/proc/kcore', '/etc/shadow', '/nabla/rootfs.tar',
            '/nabla/nabla-run', '/nabla/libos.nabla', '/nabla/ld-linux-x86-64.so.2', '/sys/fs/cgroup/cgroup.procs',
            '/sys/class/net/eth0/address', '/dev/sda', '/dev/mem', '/dev/kmsg', '/dev/tty', '/dev/net/tun', '/dev/fd/3',
            '/app/../../../../.dockerenv', '../../../../../../.dockerenv'].map((file) => `${file}: ENOENT`),
          'ls /: app dev etc lib nabla proc root tmp usr',
          'ls /proc: cpuinfo self stat sys', // the libOS's own files, made at each read
          'ls /proc/self: cmdline exe', // the guest's own argv and program
          'ls /nabla: node', // the program's own file; nothing else of the container's /nabla
          'ls /dev: null random urandom zero',
          'ls /etc: group hostname hosts ld.so.preload localtime nsswitch.conf passwd resolv.conf', // ld.so.preload: the fast call's shim
          '/etc/hosts: "127.0.0.1\\tlocalhost\\n"', // docker's under --network none, its IPv6 lines left out
          `/etc/hostname: "${HOSTNAME}\\n"`,
          'readlink /proc/self/exe: /nabla/node',
          `sha256 /proc/self/exe: ${nodeSha256}`,
          `sha256 /nabla/node: ${nodeSha256}`,
          'open /proc/self/mem for reading: ENOENT',
          'open /proc/self/mem for writing: ENOENT',
          'symlink /tmp/dockerenv -> /.dockerenv: ENOENT',
          'symlink /tmp/root -> /proc/1/root/.dockerenv: ENOENT',
          'symlink /tmp/up -> ../../../../../../../.dockerenv: ENOENT',
          'symlink /tmp/disk -> /nabla/rootfs.tar: ENOENT',
          'hard link of /nabla/rootfs.tar: ENOENT',
          'write /nabla/node: overwritten',
          'write /etc/hosts: "10.0.0.1 written\\n"',
          'write /etc/hostname: "written\\n"',
          'write /sys/fs/cgroup/cgroup.procs: "1\\n"',
        ]);
        // The writes were the unikernel's own copies: the container's files are unchanged
        // (runc makes the image's WorkingDir, /app, in the container before the tender starts).
        const diff = await docker('diff', container);
        expect(diff.exitCode, diff.stderr).toBe(0);
        expect(diff.stdout).toBe('A /app');
      } finally {
        await docker('rm', '-f', container);
      }
    }, 120_000);

    it('bindings, vm, dlopen, signals, privileges and a Worker with internals get no further; WebAssembly runs', async () => {
      const result = await node(['bindings']);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(lines(result)).toEqual([
        'process.binding("spawn_sync").spawn: ENOSYS',
        'process.binding("process_wrap") Process.spawn: ENOSYS',
        'vm context reaches the real process: true, and its spawnSync: -38',
        'dlopen /lib/x86_64-linux-gnu/libc.so.6: ERR_DLOPEN_FAILED Module did not self-register: \'/lib/x86_64-linux-gnu/libc.so.6\'.',
        'dlopen /nabla/libos.nabla: ERR_DLOPEN_FAILED /nabla/libos.nabla: cannot open shared object file: No such file or directory',
        'dlopen /usr/lib/x86_64-linux-gnu/libseccomp.so.2: ERR_DLOPEN_FAILED /usr/lib/x86_64-linux-gnu/libseccomp.so.2: ' +
          'cannot open shared object file: No such file or directory',
        'dlopen /tmp/bogus.node: ERR_DLOPEN_FAILED /tmp/bogus.node: file too short',
        'process.kill(1, 0): true',
        'process.kill(2, "SIGKILL"): ESRCH',
        'process.kill(-1, 0): ESRCH',
        'process.setuid(1000): ENOSYS',
        'process.setgid(1000): ENOSYS',
        'process.setgroups([1000]): ENOSYS',
        'process.getuid(): 0',
        'os.setPriority(0, -20): ERR_SYSTEM_ERROR A system error occurred: uv_os_setpriority returned ENOSYS (function not implemented)',
        'os.setPriority(1, 19): ERR_SYSTEM_ERROR A system error occurred: uv_os_setpriority returned ENOSYS (function not implemented)',
        'process.chdir("/proc/1/cwd"): ENOENT',
        'process.chdir("/proc/1/root"): ENOENT',
        `os.hostname(): ${HOSTNAME}`, // the container's, as in any container
        `process.report: host, system: ${HOSTNAME}, Linux 6.1.0-nabla`,
        'WebAssembly add(40, 2), sum of squares to 1000: 42 333833500',
        'Worker with --expose-internals: internalBinding spawn -38, spawnSync ENOSYS',
      ]);
    }, 60_000);

    it('--expose-internals: internalBinding spawns and opens no better; in NODE_OPTIONS node refuses it', async () => {
      const result = await node(['internals'], { nodeFlags: ['--expose-internals', '--no-warnings'] });
      expect(result.stderr).toBe('');
      expect(lines(result)).toEqual([
        'internalBinding("spawn_sync").spawn: -38',
        'internalBinding("process_wrap") Process.spawn: -38',
        'internalBinding("fs").open("/.dockerenv"): ENOENT',
      ]);
      expect(result.exitCode).toBe(0);
      const options = await node(['internals'], { dockerFlags: ['--rm', '-e', 'NODE_OPTIONS=--expose-internals'] });
      expect(options.stderr).toBe('/nabla/node: --expose-internals is not allowed in NODE_OPTIONS');
      expect(options.exitCode).toBe(9);
    }, 60_000);

    it('process.kill(1, "SIGKILL") ends only the unikernel itself', async () => {
      const result = await node(['kill-pid-1']);
      expect(result.stdout).toBe('kill(1, SIGKILL)');
      expect(result.exitCode).toBe(128 + 9);
    }, 60_000);

    it('a native addon of the app\'s own loads from /tmp, and its raw system calls are trapped and answered by the libOS, its fast calls too', async () => {
      const result = await node(['addon']);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(lines(result)).toEqual([
        'dlopen /app/rawsys.node: syscall hypercall fastcall',
        'dlopen /tmp/rawsys.node (written by the app): syscall hypercall fastcall',
        'raw write',
        'write(1) through the trap path: 10',
        'getpid: 1',
        'openat /.dockerenv: ENOENT',
        'openat /proc/1/root/.dockerenv: ENOENT',
        'openat /nabla/rootfs.tar: ENOENT',
        'fork: ENOSYS',
        'clone(SIGCHLD): ENOSYS',
        'execve /bin/sh: ENOSYS',
        'kill(2, SIGKILL): ESRCH',
        'setuid(1000): ENOSYS',
        'ptrace(PTRACE_TRACEME): ENOSYS',
        'mount: ENOSYS',
        'unshare(CLONE_NEWUSER): ENOSYS',
        'chroot /tmp: ENOSYS',
        'socket(AF_NETLINK, NETLINK_AUDIT): EPROTONOSUPPORT',
        'socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT): EPROTONOSUPPORT',
        'bpf: ENOSYS',
        'io_uring_setup: ENOSYS',
        'userfaultfd: ENOSYS',
        'perf_event_open: ENOSYS',
        'process_vm_readv(1): ENOSYS',
        'init_module: ENOSYS',
        'seccomp(SECCOMP_SET_MODE_STRICT): ENOSYS',
        'prctl(PR_SET_SECCOMP): EINVAL', // as Linux built without seccomp: the guest installs no filter of its own
        // The fast call, called with anything: the libOS's own calls, no host call the filter would refuse.
        'fast write',
        'fastcall write(1): 11',
        'fastcall write(3): the guest\'s own fd 3, not the tender\'s: EINVAL', // node's eventfd
        'fastcall write(1) from an unmapped buffer: EFAULT',
        'fastcall execve /bin/sh: handed back',
        'fastcall mprotect: handed back',
        'fastcall rt_sigreturn: handed back',
        'fastcall of no call at all: handed back',
      ]);
    }, 60_000);

    it.each(['execve', 'write-fd3'])('the addon\'s %s from the libOS\'s own syscall instruction is killed by SIGSYS', async (call) => {
      const result = await node(['addon-hypercall', call]);
      expect(result.stdout).toBe(`hypercall ${call}`);
      expect(result.exitCode).toBe(SIGSYS_EXIT);
    }, 60_000);
  });
});
