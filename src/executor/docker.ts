/**
 * Runs `nabla-compile` in a fresh container of the toolchain image: the source goes in as
 * a tar, the compiler's output is streamed to the step, /nabla/out (and, when asked, the
 * image's /usr/share/zoneinfo) comes back as a tar, and the container is removed on
 * success, failure and Ctrl-C alike.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extract } from 'tar-stream';
import type { Container, Engine } from '../engine/engine.js';
import { debug } from '../util/debug.js';
import { CompileError, throwIfAborted } from '../util/errors.js';
import type { Step } from '../util/progress.js';
import { packTar } from '../util/tar.js';
import { untar } from '../util/untar.js';
import { CompileOutput } from './compile-output.js';
import { noZoneinfo, TOOLCHAIN_FACTS, ZONEINFO_DIR, type CompileJob, type CompileResult, type Executor } from './types.js';

const log = debug('executor');

export class DockerExecutor implements Executor {
  /** logDir: where the compile's full output is kept. */
  constructor(
    private readonly engine: Engine,
    private readonly logDir: string,
  ) {}

  async compile(job: CompileJob, step: Step, signal?: AbortSignal): Promise<CompileResult> {
    const container = await this.engine.createContainer({
      image: job.image,
      cmd: ['nabla-compile'],
      env: { ...job.env, NABLA_SRC: '/nabla/src', NABLA_OUT: '/nabla/out' },
      workingDir: '/nabla/src',
      // Which app it compiles, for `docker ps` (and for tests that run builds side by side).
      labels: { 'dev.nabla.build': 'compile', 'dev.nabla.app': job.appDir },
      network: job.network,
    });
    log(`container ${container.id.slice(0, 12)} from ${job.image}`);
    // Ctrl-C stops the container; `finally` below removes it, awaited, before we exit.
    const killOnAbort = () => void container.kill().catch(() => {});
    signal?.addEventListener('abort', killOnAbort, { once: true });
    const output = new CompileOutput(job, step, this.logDir);
    try {
      await container.putArchive(await sourceTar(job), '/');
      const status = await container.run((line) => output.line(line));
      throwIfAborted(signal);
      if (status !== 0) throw output.failed(status);
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-out-'));
      const dispose = () => fs.rmSync(work, { recursive: true, force: true });
      const outDir = path.join(work, 'out');
      try {
        fs.mkdirSync(outDir);
        await untar(await container.getArchive('/nabla/out'), outDir, 'out/');
      } catch (error) {
        dispose();
        throw new CompileError(`toolchain "${job.toolchain}" wrote output nabla-build cannot use: ${(error as Error).message}`, {
          file: 'toolchains/README.md',
          hint: '$NABLA_OUT may hold only files, folders and symlinks that stay inside it',
          cause: error,
        });
      }
      const facts = await readFacts(container);
      if (!job.zoneinfo) return { outDir, facts, dispose };
      const zoneinfoDir = path.join(work, 'zoneinfo');
      try {
        fs.mkdirSync(zoneinfoDir);
        await untar(await container.getArchive(ZONEINFO_DIR), zoneinfoDir, 'zoneinfo/');
      } catch (error) {
        dispose();
        throw noZoneinfo(job, error);
      }
      return { outDir, facts, zoneinfoDir, dispose };
    } catch (error) {
      throwIfAborted(signal);
      throw error;
    } finally {
      signal?.removeEventListener('abort', killOnAbort);
      output.close();
      await container.remove().catch(() => {});
    }
  }
}

/** The TOOLCHAIN_FACTS files the container's image has (each getArchive is a one-file tar). */
async function readFacts(container: Container): Promise<Map<string, string>> {
  const facts = new Map<string, string>();
  for (const file of TOOLCHAIN_FACTS) {
    try {
      const unpack = extract();
      (await container.getArchive(file)).pipe(unpack);
      for await (const entry of unpack) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        if (entry.header.type === 'file' && entry.header.name === path.basename(file)) facts.set(file, Buffer.concat(chunks).toString('utf8'));
      }
    } catch (error) {
      log(`no ${file} in the toolchain image: ${(error as Error).message}`);
    }
  }
  return facts;
}

function sourceTar(job: CompileJob): Promise<Buffer> {
  return packTar(
    job.sources.map((file) => {
      const full = path.join(job.appDir, file);
      const stat = fs.lstatSync(full);
      return stat.isSymbolicLink()
        ? { type: 'symlink' as const, path: `/nabla/src/${file}`, target: fs.readlinkSync(full) }
        : { type: 'file' as const, path: `/nabla/src/${file}`, mode: stat.mode & 0o777, data: fs.readFileSync(full) };
    }),
    0,
  );
}
