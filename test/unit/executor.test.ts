/** The Docker executor against a fake engine: what goes into the container, what comes back, and cleanup. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DockerExecutor } from '../../src/executor/docker.js';
import { ToolchainFiles, UNUSED_FOR_MS } from '../../src/executor/toolchain-files.js';
import type { CompileJob } from '../../src/executor/types.js';
import { CompileError, InterruptedError, ToolchainError } from '../../src/util/errors.js';
import type { Step } from '../../src/util/progress.js';
import { packTar } from '../../src/util/tar.js';
import { tempDir, writeFiles } from '../helpers/cli.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { tarEntries } from '../helpers/tar.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const folder = (files: Record<string, string> = {}) => {
  const dir = tempDir();
  dirs.push(dir);
  return writeFiles(dir, files);
};

function job(appDir: string, zoneinfo = false, cache = false): CompileJob {
  return { toolchain: 'c', image: 'nabla/toolchain-c:1', appDir, sources: ['hello.c'], env: { NABLA_ENTRY: 'hello' }, network: 'none', zoneinfo, cache };
}

function recordingStep(): Step & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line), note() {} };
}

async function names(tar: Buffer): Promise<string[]> {
  return (await tarEntries(tar)).map((entry) => entry.header.name);
}

describe('DockerExecutor: folders every compile in an image brings back (rootfs-shared, zoneinfo)', () => {
  async function compileWithShared(engine: FakeEngine, files?: ToolchainFiles, shared = '/opt/runtime/rootfs\n') {
    engine.nextContainer = {
      output: [],
      exitCode: 0,
      archive: {
        '/nabla/out': await packTar(
          [
            { type: 'file', path: 'out/run.json', mode: 0o644, data: Buffer.from('{}') },
            { type: 'file', path: 'out/rootfs-shared', mode: 0o644, data: Buffer.from(shared) },
          ],
          0,
        ),
        '/opt/runtime/rootfs': await packTar([{ type: 'file', path: 'rootfs/usr/lib/std.py', mode: 0o644, data: Buffer.from('std') }], 0),
        '/usr/share/zoneinfo': await packTar([{ type: 'file', path: 'zoneinfo/UTC', mode: 0o644, data: Buffer.from('TZif2') }], 0),
      },
    };
    return new DockerExecutor(engine, folder(), files).compile(job(folder({ 'hello.c': '' }), true), recordingStep());
  }

  it('brings the folder rootfs-shared names; without a ToolchainFiles, into the compile\'s own folder', async () => {
    const engine = new FakeEngine();
    const result = await compileWithShared(engine);
    expect(fs.readFileSync(path.join(result.sharedRootfsDir!, 'usr/lib/std.py'), 'utf8')).toBe('std');
    result.dispose();
    expect(fs.existsSync(result.sharedRootfsDir!)).toBe(false);
  });

  it('with a ToolchainFiles, copies each folder out of an image once and keeps it past dispose', async () => {
    const engine = new FakeEngine();
    engine.addImage('sha256:abc', ['nabla/toolchain-c:1']);
    const files = new ToolchainFiles(folder());
    const first = await compileWithShared(engine, files);
    first.dispose();
    const second = await compileWithShared(engine, files);
    second.dispose();
    expect(second.sharedRootfsDir).toBe(first.sharedRootfsDir);
    expect(second.zoneinfoDir).toBe(first.zoneinfoDir);
    expect(fs.readFileSync(path.join(second.sharedRootfsDir!, 'usr/lib/std.py'), 'utf8')).toBe('std');
    expect(fs.readFileSync(path.join(second.zoneinfoDir!, 'UTC'), 'utf8')).toBe('TZif2');
    // The first compile asked for three folders and the SBOM's files, the second for its output only.
    expect(engine.containers.map((c) => c.archivesOut)).toEqual([
      ['/nabla/out', '/var/lib/dpkg/status', '/usr/lib/os-release', '/opt/nabla/lwip/src/include/lwip/init.h', '/opt/runtime/rootfs', '/usr/share/zoneinfo'],
      ['/nabla/out'],
    ]);
  });

  it.each(['usr/lib', '/opt/../etc', '/', '/a\n/b'])('rootfs-shared %j is refused as a broken contract', async (shared) => {
    const engine = new FakeEngine();
    const error = await compileWithShared(engine, undefined, shared).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).message).toMatch(/rootfs-shared must name one folder of its image by its absolute path/);
    expect(engine.containers[0]!.removed).toBe(true);
  });
});

describe('DockerExecutor: the compile cache (toolchain.json "cache")', () => {
  const OUT = () => packTar([{ type: 'file', path: 'out/run.json', mode: 0o644, data: Buffer.from('{}') }], 0);

  async function compileWithCache(engine: FakeEngine, files: ToolchainFiles | undefined, cache = true) {
    engine.nextContainer = { output: [], exitCode: 0, archive: { '/nabla/out': await OUT() } };
    const step = recordingStep();
    const notes: string[] = [];
    step.note = (text) => void notes.push(text);
    const result = await new DockerExecutor(engine, folder(), files).compile(job(folder({ 'hello.c': '' }), false, cache), step);
    result.dispose();
    return { spec: engine.containers.at(-1)!.spec, notes };
  }

  it('mounts the image\'s cache folder at $NABLA_CACHE: owner-only, made once, the same for every compile in the image', async () => {
    const engine = new FakeEngine();
    engine.addImage('sha256:abc', ['nabla/toolchain-c:1']);
    const root = folder();
    const files = new ToolchainFiles(root);
    const first = await compileWithCache(engine, files);
    const cacheDir = path.join(root, 'abc', 'compile-cache');
    expect(first.spec.mounts).toEqual([{ source: cacheDir, target: '/nabla/cache' }]);
    expect(first.spec.env).toMatchObject({ NABLA_CACHE: '/nabla/cache' });
    expect(fs.statSync(cacheDir).mode & 0o777).toBe(0o700);
    fs.writeFileSync(path.join(cacheDir, 'kept'), 'by the first compile');
    const second = await compileWithCache(engine, files);
    expect(second.spec.mounts).toEqual(first.spec.mounts);
    expect(fs.readFileSync(path.join(cacheDir, 'kept'), 'utf8')).toBe('by the first compile');
  });

  it('none for a toolchain that does not ask, and none without a ToolchainFiles (--no-cache)', async () => {
    const engine = new FakeEngine();
    engine.addImage('sha256:abc', ['nabla/toolchain-c:1']);
    const root = folder();
    const unasked = await compileWithCache(engine, new ToolchainFiles(root), false);
    expect(unasked.spec.mounts).toEqual([]);
    expect(unasked.spec.env).not.toHaveProperty('NABLA_CACHE');
    expect(fs.existsSync(path.join(root, 'abc', 'compile-cache'))).toBe(false);
    const noCache = await compileWithCache(engine, undefined);
    expect(noCache.spec.mounts).toEqual([]);
    expect(noCache.spec.env).not.toHaveProperty('NABLA_CACHE');
  });

  it('an engine that cannot see the folder (remote): the compile goes on without it, and says so', async () => {
    const engine = new FakeEngine();
    engine.addImage('sha256:abc', ['nabla/toolchain-c:1']);
    engine.mountError = '(HTTP code 400) unexpected - invalid mount config for type "bind": bind source path does not exist: /home/me/.cache/x';
    const { spec, notes } = await compileWithCache(engine, new ToolchainFiles(folder()));
    expect(spec.mounts).toEqual([]);
    expect(spec.env).not.toHaveProperty('NABLA_CACHE');
    expect(notes).toEqual([expect.stringMatching(/^no compile cache: the engine cannot see \/.*compile-cache$/)]);
    expect(engine.containers).toHaveLength(1);
  });

  it('any other refusal of the container is the build\'s error', async () => {
    const engine = new FakeEngine();
    engine.addImage('sha256:abc', ['nabla/toolchain-c:1']);
    engine.mountError = '(HTTP code 500) server error - no space left on device';
    await expect(compileWithCache(engine, new ToolchainFiles(folder()))).rejects.toThrow('no space left on device');
  });
});

describe('DockerExecutor: an image that does not keep the contract', () => {
  it('without nabla-compile on its PATH: a ToolchainError naming the image and the contract; the container is removed', async () => {
    const engine = new FakeEngine();
    engine.nextContainer = {
      output: [],
      exitCode: 0,
      startError: '(HTTP code 400) unexpected - failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nabla-compile": executable file not found in $PATH: unknown',
    };
    const error = await new DockerExecutor(engine, folder()).compile(job(folder({ 'hello.c': '' })), recordingStep()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as ToolchainError).message).toBe('toolchain image nabla/toolchain-c:1 has no nabla-compile on its PATH, so it cannot compile apps');
    expect((error as ToolchainError).hint).toMatch(/compile contract/);
    expect(engine.containers[0]!.removed).toBe(true);
  });
});

describe('ToolchainFiles', () => {
  it('a fill that fails leaves nothing, and the next one fills again', async () => {
    const root = folder();
    const files = new ToolchainFiles(root);
    await expect(files.folder('sha256:abc', '/x', async (into) => {
      fs.writeFileSync(path.join(into, 'half'), '');
      throw new Error('connection lost');
    })).rejects.toThrow('connection lost');
    expect(fs.readdirSync(path.join(root, 'abc'))).toEqual([]);
    const dir = await files.folder('sha256:abc', '/x', async (into) => fs.writeFileSync(path.join(into, 'whole'), ''));
    expect(fs.readdirSync(dir)).toEqual(['whole']);
  });

  it('two fills at once end with one folder, the first renamed into place', async () => {
    const files = new ToolchainFiles(folder());
    const fill = (name: string) => async (into: string) => {
      await new Promise((resolve) => setTimeout(resolve, name === 'a' ? 10 : 30));
      fs.writeFileSync(path.join(into, name), '');
    };
    const [a, b] = await Promise.all([files.folder('sha256:abc', '/x', fill('a')), files.folder('sha256:abc', '/x', fill('b'))]);
    expect(a).toBe(b);
    expect(fs.readdirSync(a)).toEqual(['a']);
    expect(fs.readdirSync(path.dirname(a))).toEqual([path.basename(a)]);
  });
});

describe('ToolchainFiles: eviction of images unused for 30 days', () => {
  const MONTH_AGO = new Date(Date.now() - UNUSED_FOR_MS - 3600_000);
  const oldImage = (root: string, id: string) => {
    const dir = writeFiles(path.join(root, id), { 'compile-cache/go-build/00/a-d': 'entry', '%2Fusr%2Fshare%2Fzoneinfo/UTC': 'TZif2' });
    fs.utimesSync(dir, MONTH_AGO, MONTH_AGO);
    return dir;
  };

  it('keeping a new image\'s folder removes old ones (and what a stopped eviction left), not recent ones; no lock is left', async () => {
    const root = folder();
    const old = oldImage(root, 'old');
    const recent = writeFiles(path.join(root, 'recent'), { 'compile-cache/x': '' });
    writeFiles(path.join(root, '.removing-1234'), { 'half/way': '' });
    const files = new ToolchainFiles(root);
    await files.compileCache('sha256:new');
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.readdirSync(root).sort()).toEqual(['new', 'recent']);
    expect(fs.existsSync(path.join(recent, 'compile-cache/x'))).toBe(true);
  });

  it('an old image used again is marked used first: the eviction that follows keeps it', async () => {
    const root = folder();
    const old = oldImage(root, 'old');
    const files = new ToolchainFiles(root);
    const [cache, zoneinfo] = await Promise.all([
      files.compileCache('sha256:old'),
      files.folder('sha256:old', '/usr/share/zoneinfo', async () => {}),
      files.compileCache('sha256:other'), // evicts what is old when it runs
    ]);
    expect(cache).toBe(path.join(old, 'compile-cache'));
    expect(fs.readFileSync(path.join(cache, 'go-build/00/a-d'), 'utf8')).toBe('entry');
    expect(fs.readFileSync(path.join(zoneinfo, 'UTC'), 'utf8')).toBe('TZif2');
    expect(Date.now() - fs.statSync(old).mtimeMs).toBeLessThan(60_000);
  });

  it('a folder eviction cannot remove now is left for next time, and the build goes on', async () => {
    const root = folder();
    const files = new ToolchainFiles(root);
    oldImage(root, 'old');
    // As for root-owned files a rootful engine's container left and this user cannot unlink.
    const rmSync = fs.rmSync;
    const refuse = vi.spyOn(fs, 'rmSync').mockImplementation((target, options) => {
      if (String(target).includes('.removing-')) throw Object.assign(new Error(`EACCES: permission denied, rm '${String(target)}'`), { code: 'EACCES' });
      rmSync(target, options);
    });
    try {
      await expect(files.compileCache('sha256:new')).resolves.toBe(path.join(root, 'new', 'compile-cache'));
    } finally {
      refuse.mockRestore();
    }
    expect(fs.readdirSync(root).filter((entry) => entry.startsWith('.removing-'))).toHaveLength(1);
    await files.compileCache('sha256:newer');
    expect(fs.readdirSync(root).sort()).toEqual(['new', 'newer']);
  });
});

describe('DockerExecutor', () => {
  it('puts the source in, runs nabla-compile, brings /nabla/out back and removes the container', async () => {
    const engine = new FakeEngine();
    engine.nextContainer = {
      output: ['cc -o hello hello.c'],
      exitCode: 0,
      archive: await packTar([{ type: 'file', path: 'out/run.json', mode: 0o644, data: Buffer.from('{}') }], 0),
    };
    const step = recordingStep();
    const result = await new DockerExecutor(engine, folder()).compile(job(folder({ 'hello.c': 'int main;' })), step);
    try {
      const [container] = engine.containers;
      expect(container!.spec).toMatchObject({ image: 'nabla/toolchain-c:1', cmd: ['nabla-compile'], network: 'none', workingDir: '/nabla/src' });
      expect(container!.spec.env).toEqual({ NABLA_ENTRY: 'hello', NABLA_SRC: '/nabla/src', NABLA_OUT: '/nabla/out' });
      expect(container!.archivesIn[0]!.path).toBe('/');
      expect(await names(container!.archivesIn[0]!.tar)).toContain('nabla/src/hello.c');
      expect(step.lines).toEqual(['cc -o hello hello.c']);
      expect(fs.readFileSync(path.join(result.outDir, 'run.json'), 'utf8')).toBe('{}');
      expect(container!.removed).toBe(true);
    } finally {
      result.dispose();
    }
    expect(fs.existsSync(result.outDir)).toBe(false);
  });

  it('with zoneinfo, brings back the image\'s /usr/share/zoneinfo beside /nabla/out (links as links)', async () => {
    const engine = new FakeEngine();
    engine.nextContainer = {
      output: [],
      exitCode: 0,
      archive: {
        '/nabla/out': await packTar([{ type: 'file', path: 'out/run.json', mode: 0o644, data: Buffer.from('{}') }], 0),
        '/usr/share/zoneinfo': await packTar(
          [
            { type: 'file', path: 'zoneinfo/Europe/Paris', mode: 0o644, data: Buffer.from('TZif2') },
            { type: 'symlink', path: 'zoneinfo/localtime', target: '/etc/localtime' },
          ],
          0,
        ),
      },
    };
    const result = await new DockerExecutor(engine, folder()).compile(job(folder({ 'hello.c': '' }), true), recordingStep());
    try {
      expect(fs.readFileSync(path.join(result.outDir, 'run.json'), 'utf8')).toBe('{}');
      expect(fs.readFileSync(path.join(result.zoneinfoDir!, 'Europe/Paris'), 'utf8')).toBe('TZif2');
      expect(fs.readlinkSync(path.join(result.zoneinfoDir!, 'localtime'))).toBe('/etc/localtime');
    } finally {
      result.dispose();
    }
    expect(fs.existsSync(result.zoneinfoDir!)).toBe(false);
  });

  it('with zoneinfo, an image without /usr/share/zoneinfo says how to go on; the container is removed', async () => {
    const engine = new FakeEngine();
    engine.nextContainer = {
      output: [],
      exitCode: 0,
      archive: { '/nabla/out': await packTar([{ type: 'file', path: 'out/run.json', mode: 0o644, data: Buffer.from('{}') }], 0) },
    };
    const error = await new DockerExecutor(engine, folder()).compile(job(folder({ 'hello.c': '' }), true), recordingStep()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as ToolchainError).message).toBe('toolchain image nabla/toolchain-c:1 has no /usr/share/zoneinfo to copy into the app\'s rootfs');
    expect((error as ToolchainError).hint).toContain('"zoneinfo": false');
    expect(engine.containers[0]!.removed).toBe(true);
  });

  it('a failed compile is a CompileError with the last lines and the log path; the container is removed', async () => {
    const engine = new FakeEngine();
    engine.nextContainer = { output: ['hello.c:1: error: boom'], exitCode: 1 };
    const logDir = folder();
    const error = await new DockerExecutor(engine, logDir).compile(job(folder({ 'hello.c': '' })), recordingStep()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).message).toBe('the app failed to compile (nabla-compile exited with 1)');
    expect((error as CompileError).details).toEqual(['  | hello.c:1: error: boom', expect.stringMatching(/^full log: /)]);
    expect(fs.readdirSync(logDir)).toHaveLength(1);
    expect(engine.containers[0]!.removed).toBe(true);
  });

  it('Ctrl-C kills the container, removes it and ends as interrupted', async () => {
    const engine = new FakeEngine();
    engine.nextContainer = { output: ['compiling'], exitCode: 137 };
    const controller = new AbortController();
    const step: Step = { log: () => controller.abort(), note() {} };
    const error = await new DockerExecutor(engine, folder()).compile(job(folder({ 'hello.c': '' })), step, controller.signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(engine.containers[0]).toMatchObject({ killed: true, removed: true });
  });
});
