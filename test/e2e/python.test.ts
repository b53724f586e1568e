/**
 * Python apps end to end: the python toolchain's CPython 3.11 (Debian's source, built
 * statically against libOS-musl and relinked with the libOS) is the unikernel, its standard
 * library is in rootfs.tar, and the app's files are /app. `docker run --network none` shows
 * what it does: the greeting and arguments, stdlib modules computing known answers, files,
 * tracebacks on stderr and exit codes.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { LoadedImages, docker, expectSameBytesFromTwoFolders, httpGet, runImage, waitForLog } from '../helpers/docker.js';
import { FS_BASE_MODES } from '../helpers/host.js';
import { allowedHostCalls, heapCallsPinned, hostCallsAfterSeccomp, setFsOnly, straceUnikernel } from '../helpers/strace.js';

const work = tempDir('nabla-e2e-python-');
const images = new LoadedImages();
afterAll(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  await images.removeAll();
});

const buildImage = (appDir: string, name: string) => images.build(appDir, name);
const run = runImage;

describe('python apps', () => {
  it('examples/hello-python: docker run prints the greeting and the arguments through the tender', async () => {
    await buildImage(path.join(repoRoot, 'examples', 'hello-python'), 'nabla-e2e/hello-python:1');
    const result = await run('nabla-e2e/hello-python:1', 'one', 'two words');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(['Hello from Python in a nabla-build image!', 'arg 1: one', 'arg 2: two words']);
    expect(result.exitCode).toBe(0);

    const inspect = await execa('docker', ['image', 'inspect', 'nabla-e2e/hello-python:1', '--format', '{{json .Config}}']);
    const config = JSON.parse(inspect.stdout) as { Entrypoint: string[]; Env: string[]; WorkingDir: string; Labels: Record<string, string> };
    expect(config.Entrypoint).toEqual(['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '--heap=flat', '/nabla/python.nabla']);
    expect(config.Env).toEqual(
      expect.arrayContaining(['NABLA_PYTHON_MAIN=/app/main.py', 'PYTHONHOME=/usr', 'PYTHONPATH=/app', 'PYTHONDONTWRITEBYTECODE=1']),
    );
    expect(config.WorkingDir).toBe('/app');
    expect(config.Labels['dev.nabla.language']).toBe('python');
    expect(config.Labels['dev.nabla.toolchain']).toMatch(/^nabla\/toolchain-python:/);
  });

  it('two builds of the same Python source give the same bytes, wherever the source lives', async () => {
    await expectSameBytesFromTwoFolders('hello-python', 'main.py', work);
  });

  it('json, datetime, math, decimal, hashlib, zlib and threads compute known answers; a data file shipped with the app is read', async () => {
    const app = writeFiles(path.join(work, 'roundtrip'), {
      'main.py': [
        'import datetime, decimal, hashlib, json, math, queue, struct, sys, threading, zlib',
        'when = datetime.datetime(2024, 2, 29, 12, 30, tzinfo=datetime.timezone.utc)',
        'doc = json.loads(json.dumps({"when": when.isoformat(), "pi": round(math.pi, 6), "n": [1, 2.5, None, True]}, sort_keys=True))',
        'print("json", json.dumps(doc, sort_keys=True))',
        'print("datetime", datetime.datetime.fromisoformat(doc["when"]) + datetime.timedelta(days=1), when.strftime("%A %j"))',
        'print("math", math.factorial(20), math.isqrt(10**20), f"{math.sqrt(2):.12f}", math.gcd(84, 36))',
        'print("decimal", decimal.Decimal("1.1") + decimal.Decimal("2.2"), decimal.Decimal(1) / decimal.Decimal(7))',
        'print("hashlib", hashlib.sha256(b"abc").hexdigest()[:16], hashlib.md5(b"abc").hexdigest()[:16])',
        'print("zlib", zlib.crc32(b"hello"), zlib.decompress(zlib.compress(b"nabla" * 100)) == b"nabla" * 100)',
        'print("struct", struct.pack("<IH", 1, 2).hex())',
        'q = queue.Queue()',
        'threads = [threading.Thread(target=lambda i=i: q.put(i * i)) for i in range(1, 11)]',
        '[t.start() for t in threads]; [t.join() for t in threads]',
        'print("threads", sum(q.get() for _ in threads))',
        'print("data", open("data/greeting.txt").read().strip())',
        '',
      ].join('\n'),
      'data/greeting.txt': 'shipped with the app\n',
    });
    await buildImage(app, 'nabla-e2e/roundtrip-python:1');
    const result = await run('nabla-e2e/roundtrip-python:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'json {"n": [1, 2.5, null, true], "pi": 3.141593, "when": "2024-02-29T12:30:00+00:00"}',
      'datetime 2024-03-01 12:30:00+00:00 Thursday 060',
      'math 2432902008176640000 10000000000 1.414213562373 12',
      'decimal 3.3 0.1428571428571428571428571429',
      'hashlib ba7816bf8f01cfea 900150983cd24fb0',
      'zlib 907060870 True',
      'struct 010000000200',
      'threads 385',
      'data shipped with the app',
    ]);
    expect(result.exitCode).toBe(0);
  });

  it('sys.exit(3) is the exit code; an uncaught exception prints its traceback on stderr and exits 1', async () => {
    const app = writeFiles(path.join(work, 'exits'), {
      'main.py': [
        'import sys',
        'if sys.argv[1:] == ["raise"]:',
        '    raise ValueError("boom")',
        'print("exiting with 3")',
        'sys.exit(3)',
        '',
      ].join('\n'),
    });
    await buildImage(app, 'nabla-e2e/exits-python:1');
    const exit = await run('nabla-e2e/exits-python:1');
    expect(exit.stdout).toBe('exiting with 3');
    expect(exit.exitCode).toBe(3);
    const raised = await run('nabla-e2e/exits-python:1', 'raise');
    expect(raised.stdout).toBe('');
    expect(raised.stderr).toContain('File "/app/main.py", line 3, in <module>');
    expect(raised.stderr).toContain('ValueError: boom');
    expect(raised.exitCode).toBe(1);
  });

  it('asyncio without a network: its event loop wakes through socket.socketpair() (AF_UNIX in the libOS)', async () => {
    const app = writeFiles(path.join(work, 'asyncio-offline'), {
      'main.py': [
        'import asyncio, socket, time',
        'async def worker(name, queue, done):',
        '    while (item := await queue.get()) is not None:',
        '        done.append(f"{name}:{item}")',
        '        await asyncio.sleep(0.001)',
        'async def echo_over_a_socketpair():',
        '    left, right = socket.socketpair()',
        '    print("pair", left.family.name, left.type.name)',
        '    reader, writer = await asyncio.open_connection(sock=left)',
        '    r2, w2 = await asyncio.open_connection(sock=right)',
        '    writer.write(b"ping\\n"); await writer.drain()',
        '    line = await r2.readline()',
        '    w2.write(line.upper()); await w2.drain()',
        '    return (await reader.readline()).decode().strip()',
        'async def main():',
        '    queue, done = asyncio.Queue(), []',
        '    workers = [asyncio.create_task(worker(n, queue, done)) for n in "ab"]',
        '    for i in range(10): await queue.put(i)',
        '    for _ in workers: await queue.put(None)',
        '    await asyncio.gather(*workers)',
        '    print("queue", len(done), sorted(int(d.split(":")[1]) for d in done) == list(range(10)))',
        '    blocking = await asyncio.get_running_loop().run_in_executor(None, lambda: time.sleep(0.05) or "from a thread")',
        '    print("executor", blocking)',
        '    print("echo", await echo_over_a_socketpair())',
        '    try:',
        '        await asyncio.wait_for(asyncio.sleep(10), timeout=0.05)',
        '    except TimeoutError:',
        '        print("timeout ok")',
        'asyncio.run(main())',
        '',
      ].join('\n'),
    });
    await buildImage(app, 'nabla-e2e/asyncio-offline-python:1');
    const result = await run('nabla-e2e/asyncio-offline-python:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual(['queue 10 True', 'executor from a thread', 'pair AF_UNIX SOCK_STREAM', 'echo PING', 'timeout ok']);
    expect(result.exitCode).toBe(0);
  });

  it('a syntax error fails the build with exit 4 and names the file', async () => {
    const broken = writeFiles(path.join(work, 'syntax'), { 'main.py': 'print("unclosed"\n' });
    const syntax = await nabla(['build', broken]);
    expect(syntax.exitCode).toBe(4);
    expect(syntax.stderr).toContain('/app/main.py');
    expect(syntax.stderr).toContain('the app has syntax errors');
  });
});

describe.each(FS_BASE_MODES)('host system calls of the python unikernel (strace -f), FS base by $mode', ({ mode, runs }) => {
  it.skipIf(!runs)('CPython is relinked: imports, files, threads and hashing reach the host only as whitelisted calls, none trapped', async () => {
    const app = writeFiles(path.join(work, `traced-${mode}`), {
      'main.py': [
        'import hashlib, json, threading',
        'results = []',
        'threads = [threading.Thread(target=lambda i=i: results.append(hashlib.sha256(str(i).encode()).hexdigest()[:4])) for i in range(4)]',
        '[t.start() for t in threads]; [t.join() for t in threads]',
        'open("/tmp/out.json", "w").write(json.dumps(sorted(results)))',
        'print("traced", len(json.load(open("/tmp/out.json"))))',
        '',
      ].join('\n'),
    });
    const dest = path.join(work, `traced-out-${mode}`);
    const build = await nabla(['build', app, '-o', `type=dir,dest=${dest}`]);
    expect(build.exitCode, build.stderr).toBe(0);
    const toolchain = (await nabla(['toolchain', 'build', 'python'])).stdout.trim();
    const traced = await straceUnikernel({
      image: toolchain,
      dir: dest,
      unikernel: 'python.nabla',
      env: { NABLA_PYTHON_MAIN: '/app/main.py', PYTHONHOME: '/usr', PYTHONPATH: '/app', PYTHONDONTWRITEBYTECODE: '1', NABLA_FS_BASE: mode },
      traceFile: path.join(work, `python-${mode}.trace`),
    });
    expect(traced.stdout).toBe('traced 4');
    expect(traced.exitCode, traced.stderr).toBe(0);
    const calls = hostCallsAfterSeccomp(traced.lines);
    const { ran, trapped, pids } = calls;
    // rt_sigreturn (in the filter): the guest's entry, and the libOS's return from the
    // tender's preemption tick (SIGVTALRM every 10 ms of CPU time).
    expect(ran.filter((name) => !allowedHostCalls(mode).has(name))).toEqual([]);
    expect(setFsOnly(calls)).toBe(true);
    expect(heapCallsPinned(calls)).toBe(true);
    expect(ran.includes('arch_prctl')).toBe(mode === 'host-call'); // its threads switch the FS base
    // One rt_sigreturn enters the guest (the tender's, after its filter); any other is the
    // libOS's return from a tick. (A short start-up on a fast host gets no tick at all.)
    const ticks = traced.lines.filter((line) => line.includes('--- SIGVTALRM')).length;
    const sigreturns = ran.filter((name) => name === 'rt_sigreturn').length;
    expect(sigreturns).toBeGreaterThanOrEqual(1);
    expect(sigreturns - 1).toBeLessThanOrEqual(ticks);
    expect(trapped).toEqual([]); // every call went through libOS-musl as a function call
    expect(pids.size).toBe(1);
    expect(ran).not.toContain('pread64'); // the stdlib, read from the tender's mapping of rootfs.tar
    expect(ran.at(-1)).toBe('exit_group');
  });
});

describe('python servers on the container\'s network', () => {
  const NETWORK = 'nabla-e2e-python-net';
  const NET_FLAGS = ['--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun'];
  const containers: string[] = [];

  async function serve(app: string, image: string, name: string, ip: string, ready: string): Promise<void> {
    await buildImage(app, image);
    containers.push(name);
    await docker('rm', '-f', name);
    const started = await docker('run', '-d', '--name', name, '--network', NETWORK, '--ip', ip, ...NET_FLAGS, image);
    expect(started.exitCode, started.stderr).toBe(0);
    await waitForLog(name, ready);
  }
  const get = (url: string) => httpGet(url);

  beforeAll(async () => {
    await docker('network', 'rm', NETWORK);
    const made = await docker('network', 'create', '--subnet', '10.89.5.0/24', NETWORK);
    expect(made.exitCode, made.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const name of containers) await docker('rm', '-f', name);
    await docker('network', 'rm', NETWORK);
  });

  it('`python -m http.server` (entry and args from nabla.json) serves the app\'s files; an asyncio server answers', async () => {
    const site = writeFiles(path.join(work, 'site'), {
      'nabla.json': JSON.stringify({ language: 'python', entry: 'http.server', args: ['8000', '--bind', '0.0.0.0'], ports: [8000] }),
      'index.html': '<h1>hello from http.server</h1>\n',
      'data/answer.txt': '42\n',
    });
    await serve(site, 'nabla-e2e/http-server-python:1', 'nabla-e2e-python-http', '10.89.5.10', 'Serving HTTP on 0.0.0.0 port 8000');
    expect(await get('http://10.89.5.10:8000/')).toEqual({ status: 200, body: '<h1>hello from http.server</h1>\n' });
    expect(await get('http://10.89.5.10:8000/data/answer.txt')).toEqual({ status: 200, body: '42\n' });
    expect((await get('http://10.89.5.10:8000/missing')).status).toBe(404);

    const asyncApp = writeFiles(path.join(work, 'asyncio'), {
      'nabla.json': JSON.stringify({ ports: [8081] }),
      'main.py': [
        'import asyncio, json',
        'hits = 0',
        'async def handle(reader, writer):',
        '    global hits',
        '    request = await reader.readuntil(b"\\r\\n\\r\\n")',
        '    hits += 1',
        '    mine = hits',
        '    await asyncio.sleep(0.01)  # the 20 concurrent requests wait here together',
        '    body = json.dumps({"path": request.split(b" ")[1].decode(), "hits": mine}).encode()',
        '    writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n" % len(body) + body)',
        '    await writer.drain()',
        '    writer.close()',
        'async def main():',
        '    server = await asyncio.start_server(handle, "0.0.0.0", 8081)',
        '    print("asyncio listening on 8081")',
        '    async with server:',
        '        await server.serve_forever()',
        'asyncio.run(main())',
        '',
      ].join('\n'),
    });
    await serve(asyncApp, 'nabla-e2e/asyncio-python:1', 'nabla-e2e-python-asyncio', '10.89.5.11', 'asyncio listening on 8081');
    expect(await get('http://10.89.5.11:8081/one')).toEqual({ status: 200, body: '{"path": "/one", "hits": 1}' });
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => get(`http://10.89.5.11:8081/n${i}`)));
    expect(many.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(many.map((r) => (JSON.parse(r.body) as { hits: number }).hits)).size).toBe(20);
  });

  it('examples/flask-python: Flask from Debian\'s python3-flask (requirements.txt) answers its routes', async () => {
    await serve(path.join(repoRoot, 'examples', 'flask-python'), 'nabla-e2e/flask-python:1', 'nabla-e2e-python-flask', '10.89.5.12',
      'Running on all addresses');
    expect(await get('http://10.89.5.12:8080/')).toEqual({ status: 200, body: 'hello from Flask in a nabla unikernel\n' });
    const sum = await get('http://10.89.5.12:8080/add/2/40');
    expect(sum.status).toBe(200);
    expect(JSON.parse(sum.body)).toEqual({ sum: 42 });
    const echoed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request('http://10.89.5.12:8080/echo', { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ nabla: [1, 2, 3] }));
    });
    expect(echoed.status).toBe(200);
    expect(JSON.parse(echoed.body)).toEqual({ nabla: [1, 2, 3] });
    expect((await get('http://10.89.5.12:8080/nope')).status).toBe(404);
  });
});
