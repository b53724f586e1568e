/** The Docker executor against a fake engine: what goes into the container, what comes back, and cleanup. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerExecutor } from '../../src/executor/docker.js';
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

function job(appDir: string, zoneinfo = false): CompileJob {
  return { toolchain: 'c', image: 'nabla/toolchain-c:1', appDir, sources: ['hello.c'], env: { NABLA_ENTRY: 'hello' }, network: 'none', zoneinfo };
}

function recordingStep(): Step & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line), note() {} };
}

async function names(tar: Buffer): Promise<string[]> {
  return (await tarEntries(tar)).map((entry) => entry.header.name);
}

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
