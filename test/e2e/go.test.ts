/**
 * Go apps end to end: the go toolchain builds a static Go binary, the image runs it with
 * the tender beside the libOS (the trap path), and `docker run` shows what it does:
 * goroutines, files, exit codes, vendored modules, escape attempts, and (strace -f) which
 * host calls it makes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { LoadedImages, expectSameBytesFromTwoFolders, runImage } from '../helpers/docker.js';
import { FS_BASE_MODES } from '../helpers/host.js';
import { allowedHostCalls, heapCallsPinned, hostCallsAfterSeccomp, setFsOnly, straceUnikernel } from '../helpers/strace.js';

const work = tempDir('nabla-e2e-go-');
const images = new LoadedImages();
afterAll(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  await images.removeAll();
});

const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);

const buildImage = (appDir: string, name: string) => images.build(appDir, name);
const run = runImage;

describe('go apps', () => {
  it('examples/hello-go: --load, then docker run prints the greeting through the tender and the libOS', async () => {
    await buildImage(path.join(repoRoot, 'examples', 'hello-go'), 'nabla-e2e/hello-go:1');
    const result = await run('nabla-e2e/hello-go:1', 'one', 'two words');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(['Hello from Go in a nabla-build image!', 'arg 1: one', 'arg 2: two words']);
    expect(result.exitCode).toBe(0);

    const inspect = await execa('docker', ['image', 'inspect', 'nabla-e2e/hello-go:1', '--format', '{{json .Config}}']);
    const config = JSON.parse(inspect.stdout) as { Entrypoint: string[]; Env: string[]; Labels: Record<string, string> };
    expect(config.Entrypoint).toEqual([
      '/nabla/nabla-run',
      '--mem=256',
      '--disk=/nabla/rootfs.tar',
      '--libos=/nabla/libos.nabla',
      '/nabla/hello-go.nabla',
    ]);
    expect((config.Env ?? []).filter((e) => e.startsWith('GODEBUG='))).toEqual([]); // Go's own preemption is on
    expect(config.Labels['dev.nabla.language']).toBe('go');
    expect(config.Labels['dev.nabla.toolchain']).toMatch(/^nabla\/toolchain-go:/);
  });

  it('two builds of the same Go source give the same bytes, wherever the source lives', async () => {
    await expectSameBytesFromTwoFolders('hello-go', 'main.go', work);
  });

  it('goroutines, channels, time.Sleep, a WaitGroup and a select timeout compute the known result', async () => {
    await buildImage(fixture('goroutines-go'), 'nabla-e2e/goroutines-go:1');
    const result = await run('nabla-e2e/goroutines-go:1');
    expect(result.stdout).toBe('goroutines: sum=2686700 handled=200 workers=8 echoed=100'); // 1² + … + 200²
    expect(result.exitCode).toBe(0);
  });

  it('a goroutine spinning with no function calls is preempted (Go\'s SIGURG, delivered to its thread): GC and main go on', async () => {
    const app = writeFiles(path.join(work, 'preempt'), {
      'go.mod': 'module preempt\n\ngo 1.23\n',
      'main.go': [
        'package main',
        '',
        'import (',
        '\t"fmt"',
        '\t"runtime"',
        '\t"sync/atomic"',
        '\t"time"',
        ')',
        '',
        'var spins atomic.Int64',
        '',
        '// No calls (the atomic add is an instruction), so no cooperative preemption point:',
        '// only an asynchronous signal stops it.',
        'func spin() {',
        '\tfor {',
        '\t\tspins.Add(1)',
        '\t}',
        '}',
        '',
        'func main() {',
        '\tfmt.Println("procs", runtime.GOMAXPROCS(0))',
        '\tgo spin()',
        '\ttime.Sleep(20 * time.Millisecond) // the spinner takes the one P',
        '\truntime.GC()                      // stop-the-world must preempt it',
        '\tfmt.Println("gc done while a goroutine spins:", spins.Load() > 0)',
        '}',
        '',
      ].join('\n'),
    });
    await buildImage(app, 'nabla-e2e/preempt-go:1');
    const name = `nabla-e2e-preempt-${process.pid}`;
    const result = await execa('docker', ['run', '--name', name, '--network', 'none', 'nabla-e2e/preempt-go:1'], { reject: false, timeout: 60_000 });
    await execa('docker', ['rm', '-f', name], { reject: false });
    expect(result.stdout.split('\n')).toEqual(['procs 1', 'gc done while a goroutine spins: true']);
    expect(result.exitCode).toBe(0);
  });

  it('files: os.ReadFile of a shipped file, writes and reads in os.TempDir(); os.Exit(3) is the exit code', async () => {
    await buildImage(fixture('files-go'), 'nabla-e2e/files-go:1');
    const files = await run('nabla-e2e/files-go:1');
    expect(files.stdout).toBe('files: ok');
    expect(files.exitCode).toBe(0);
    const exit = await run('nabla-e2e/files-go:1', 'exit', '3');
    expect(exit.stdout).toBe('exiting with 3');
    expect(exit.exitCode).toBe(3);
  });

  it('a third-party module present only in vendor/ builds offline', async () => {
    await buildImage(fixture('vendored-go'), 'nabla-e2e/vendored-go:1');
    const result = await run('nabla-e2e/vendored-go:1');
    expect(result.stdout).toBe('Hello, nabla, from a vendored module!');
    expect(result.exitCode).toBe(0);
  });

  it('the same module without vendor/ needs `go mod download`, and says to vendor when the proxy is unreachable', async () => {
    const app = path.join(work, 'unvendored');
    fs.cpSync(fixture('vendored-go'), app, { recursive: true });
    fs.rmSync(path.join(app, 'vendor'), { recursive: true });
    const result = await nabla(['build', app]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('go mod download');
    expect(result.stderr).toContain('run `go mod vendor` in the app folder');
  });

  it('a program under cmd/ is found, and a folder of *.go files needs no go.mod', async () => {
    const tool = writeFiles(path.join(work, 'tools'), {
      'go.mod': 'module example.com/tools\n\ngo 1.21\n',
      'cmd/tool/main.go': 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("tool from cmd/") }\n',
    });
    const built = await nabla(['build', tool, '--json', '-q']);
    expect(built.exitCode, built.stderr).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ language: 'go', entry: './cmd/tool' });
    await buildImage(tool, 'nabla-e2e/go-cmd:1');
    expect((await run('nabla-e2e/go-cmd:1')).stdout).toBe('tool from cmd/');

    const loose = writeFiles(path.join(work, 'loose'), {
      'main.go': 'package main\n\nfunc main() { println("no go.mod") }\n',
    });
    await buildImage(loose, 'nabla-e2e/go-loose:1');
    expect((await run('nabla-e2e/go-loose:1')).stderr).toBe('no go.mod');
  });

  it('a compile error shows the Go compiler message, and a package that is not main says so; both exit 4', async () => {
    const app = writeFiles(path.join(work, 'broken'), {
      'go.mod': 'module example.com/broken\n\ngo 1.21\n',
      'main.go': 'package main\n\nfunc main() { undefinedThing() }\n',
    });
    const result = await nabla(['build', app]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/main\.go:3:\d+: undefined: undefinedThing/);

    const library = writeFiles(path.join(work, 'library'), {
      'go.mod': 'module example.com/library\n\ngo 1.21\n',
      'library.go': 'package library\n\nfunc Answer() int { return 42 }\n',
    });
    const notMain = await nabla(['build', library]);
    expect(notMain.exitCode).toBe(4);
    expect(notMain.stderr).toContain('the package in "." is "library", not a program (package main)');
  });

  it('bench/go/cpu prints the same checksum under the tender as the same binary run natively', async () => {
    const dest = path.join(work, 'cpu');
    const build = await nabla(['build', path.join(repoRoot, 'bench', 'go', 'cpu'), '-o', `type=dir,dest=${dest}`]);
    expect(build.exitCode, build.stderr).toBe(0);
    const toolchain = (await nabla(['toolchain', 'build', 'go'])).stdout.trim();
    const inContainer = (...command: string[]) =>
      execa('docker', ['run', '--rm', '--network', 'none', '-w', '/', '-v', `${dest}:/t:ro`, toolchain, ...command], { reject: false });
    const native = await inContainer('/t/nabla/cpu.nabla', '200');
    const underTender = await inContainer('/t/nabla/nabla-run', '--disk=/t/nabla/rootfs.tar',
      '--libos=/t/nabla/libos.nabla', '/t/nabla/cpu.nabla', '200');
    expect(native.exitCode).toBe(0);
    expect(underTender.exitCode, underTender.stderr).toBe(0);
    expect(native.stdout).toMatch(/^[0-9a-f]{16}$/);
    expect(underTender.stdout).toBe(native.stdout);
  });
});

describe('the go build cache, kept between builds per toolchain image', () => {
  // A cache of its own (cold at first); the vendored module is a package of its own: `go build
  // -v` names it when it is compiled, which only a build that reuses the cache skips.
  const cacheHome = path.join(work, 'xdg-cache');
  const env = { XDG_CACHE_HOME: cacheHome };
  const compiled = (stderr: string) => [...stderr.matchAll(/^#\d+ (example\.com\/\S+)$/gm)].map((m) => m[1]);
  const copy = (name: string) => {
    const app = path.join(work, 'cache', name);
    fs.cpSync(fixture('vendored-go'), app, { recursive: true });
    return app;
  };

  it('two cold builds at once share it; a one-line change compiles only main; the same source gives the same digest, warm, cold or --no-cache; run DIR --no-cache too', async () => {
    const [a, b] = [copy('a'), copy('b')];
    const cold = await Promise.all([a, b].map((app) => nabla(['build', app, '-o', `type=oci,dest=${app}.tar`], { env })));
    for (const build of cold) expect(build.exitCode, build.stderr).toBe(0);
    // The first to get to it compiles the module; the other may find it in the cache already.
    expect(cold.flatMap((build) => compiled(build.stderr))).toContain('example.com/greeting');
    expect(cold[0]!.stdout).toBe(cold[1]!.stdout);
    const files = path.join(cacheHome, 'nabla-build', 'toolchain-files');
    const [cache] = fs.readdirSync(files).map((id) => path.join(files, id, 'compile-cache')).filter((dir) => fs.existsSync(dir));
    expect(fs.readdirSync(cache!).filter((name) => !name.startsWith('.')).sort()).toEqual(['go-build']); // one seed, none half-made
    // Every folder in it is writable by all: the owner of the (owner-only) cache folder can remove what root wrote.
    const closed = fs.readdirSync(cache!, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isDirectory() && (fs.statSync(path.join(entry.parentPath, entry.name)).mode & 0o777) !== 0o777);
    expect(closed.map((entry) => entry.name)).toEqual([]);

    const main = path.join(a, 'main.go');
    const source = fs.readFileSync(main, 'utf8');
    fs.writeFileSync(main, source.replace(/\n}\n$/, '\n\tfmt.Println("one more line")\n}\n'));
    const changed = await images.build(a, 'nabla-e2e/go-cache:1', { env });
    expect(compiled(changed)).toEqual(['example.com/vendored']);
    expect((await run('nabla-e2e/go-cache:1')).stdout).toBe('Hello, nabla, from a vendored module!\none more line');

    fs.writeFileSync(main, source);
    const warm = await nabla(['build', a, '-o', `type=oci,dest=${a}-warm.tar`], { env });
    expect(warm.exitCode, warm.stderr).toBe(0);
    expect(compiled(warm.stderr)).toEqual([]); // both packages as the cold builds compiled them
    expect(warm.stdout).toBe(cold[0]!.stdout);
    expect(fs.readFileSync(`${a}-warm.tar`).equals(fs.readFileSync(`${a}.tar`))).toBe(true);

    const noCache = await nabla(['build', a, '--no-cache'], { env });
    expect(noCache.exitCode, noCache.stderr).toBe(0);
    expect(compiled(noCache.stderr)).toEqual(['example.com/greeting', 'example.com/vendored']);
    expect(noCache.stdout).toBe(cold[0]!.stdout);

    // run DIR builds the same way: warm by default, from nothing with --no-cache.
    const warmRun = await nabla(['run', a], { env });
    expect(warmRun.exitCode, warmRun.stderr).toBe(0);
    expect(compiled(warmRun.stderr)).toEqual([]);
    const coldRun = await nabla(['run', a, '--no-cache'], { env });
    expect(coldRun.exitCode, coldRun.stderr).toBe(0);
    expect(compiled(coldRun.stderr)).toEqual(['example.com/greeting', 'example.com/vendored']);
    expect(coldRun.stdout).toContain('Hello, nabla, from a vendored module!');
  });

  it('build --watch builds a Go app again after a change, reusing the cache', async () => {
    const app = copy('watched');
    const child = execa(cliPath, ['--progress=plain', 'build', app, '--watch', '--load', '-t', 'nabla-e2e/go-watch:1'], { reject: false, stdin: 'ignore', env });
    images.add('nabla-e2e/go-watch:1');
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const waitFor = async (text: string, times = 1) => {
      for (let i = 0; i < 1200 && stderr.split(text).length - 1 < times; i++) await new Promise((r) => setTimeout(r, 100));
      expect(stderr.split(text).length - 1, stderr).toBeGreaterThanOrEqual(times);
    };
    await waitFor('watching for changes');
    const main = path.join(app, 'main.go');
    fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('greeting.Hello("nabla")', 'greeting.Hello("watch")'));
    await waitFor('main.go changed: building again');
    await waitFor('watching for changes', 2);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    const digests = String(result.stdout).split('\n');
    expect(digests).toHaveLength(2);
    expect(digests[0]).not.toBe(digests[1]);
    const second = stderr.slice(stderr.indexOf('main.go changed'));
    expect(compiled(second)).toEqual(['example.com/vendored']);
    expect((await run('nabla-e2e/go-watch:1')).stdout).toBe('Hello, watch, from a vendored module!');
  });
});

describe('escape attempts from Go (trap path)', () => {
  it('syscall.Syscall/RawSyscall and host paths are refused inside the libOS; the program carries on', async () => {
    await buildImage(fixture('escape-go'), 'nabla-e2e/escape-go:1');
    const result = await run('nabla-e2e/escape-go:1');
    expect(result.stdout).not.toContain('ESCAPED');
    expect(result.stdout.split('\n')).toEqual([
      'execve: function not implemented',
      'socket: address family not supported by protocol', // AF_PACKET: only AF_INET is served
      'ptrace: function not implemented',
      'mount: function not implemented',
      'open /.dockerenv: no such file or directory',
      'open /proc/1/root/.dockerenv: no such file or directory',
      'open /proc/self/status: no such file or directory',
      'open /nabla/nabla-run: no such file or directory',
      'escape: done',
    ]);
    expect(result.exitCode).toBe(0);
  });
});

describe.each(FS_BASE_MODES)('host system calls of a Go unikernel (strace -f), FS base by $mode', ({ mode, runs }) => {
  it.skipIf(!runs)('goroutines-go: the runtime\'s calls are trapped, its reads and writes fast calls; only whitelisted calls (+ rt_sigreturn) reach the host', async () => {
    const dest = path.join(work, `goroutines-trace-${mode}`);
    const build = await nabla(['build', fixture('goroutines-go'), '-o', `type=dir,dest=${dest}`]);
    expect(build.exitCode, build.stderr).toBe(0);
    const toolchain = await nabla(['toolchain', 'build', 'go']);
    const traced = await straceUnikernel({
      image: toolchain.stdout.trim(),
      dir: dest,
      unikernel: 'goroutines.nabla',
      libos: 'libos.nabla',
      env: { NABLA_FS_BASE: mode },
      traceFile: path.join(work, `goroutines-${mode}.trace`),
    });
    expect(traced.stdout).toBe('goroutines: sum=2686700 handled=200 workers=8 echoed=100');
    expect(traced.exitCode, traced.stderr).toBe(0);

    const calls = hostCallsAfterSeccomp(traced.lines);
    const { ran, trapped, pids } = calls;
    expect(ran.filter((name) => !allowedHostCalls(mode).has(name))).toEqual([]);
    expect(setFsOnly(calls)).toBe(true);
    expect(heapCallsPinned(calls)).toBe(true);
    // Go sets its thread pointer (trapped arch_prctl); green threads switch it.
    expect(trapped).toContain('arch_prctl');
    expect(ran.includes('arch_prctl')).toBe(mode === 'host-call');
    // The Go runtime's own calls went to the libOS: threads, memory, futexes. The clock it
    // reads in the host's vDSO (AT_SYSINFO_EHDR), with no system call: none trapped (the
    // libOS's own clock_gettime, for its timers, is a hypercall the filter allows).
    expect(trapped).toEqual(expect.arrayContaining(['clone', 'mmap', 'futex']));
    // Its reads, writes and waits (the syscall package's and the poller's, 400 and more for
    // the echoed bytes alone) are fast calls into the libOS (toolchains/go's Syscall6), not
    // traps: only one a signal meets goes the trap path.
    expect(trapped.filter((name) => name === 'syscall_0x4e41')).toHaveLength(1); // asked for once
    const io = trapped.filter((name) => ['read', 'write', 'epoll_pwait'].includes(name));
    expect(io.length, io.join(' ')).toBeLessThan(20);
    expect(trapped.filter((name) => name === 'clock_gettime' || name === 'gettimeofday')).toEqual([]);
    expect(pids.size).toBe(1); // clone made green threads, not host threads
    expect(ran).not.toContain('pread64'); // its files come from the tender's mapping of rootfs.tar
    expect(ran.at(-1)).toBe('exit_group');
  });
});
