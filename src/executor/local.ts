/**
 * Runs `nabla-compile` directly with execa. Used inside a toolchain image (a multi-stage
 * Dockerfile's `RUN nabla-build build --executor local`), where there is no Docker socket.
 * config/resolve.ts has checked that this image is the app's toolchain.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { throwIfAborted } from '../util/errors.js';
import type { Step } from '../util/progress.js';
import { CompileOutput } from './compile-output.js';
import { noZoneinfo, readSharedRootfs, TOOLCHAIN_FACTS, ZONEINFO_DIR, type CompileJob, type CompileResult, type Executor } from './types.js';

export class LocalExecutor implements Executor {
  /** logDir: where the compile's full output is kept. */
  constructor(private readonly logDir: string) {}

  async compile(job: CompileJob, step: Step, signal?: AbortSignal): Promise<CompileResult> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-compile-'));
    const srcDir = path.join(work, 'src');
    const outDir = path.join(work, 'out');
    // A private copy, as in a container: a Makefile's objects never land in the user's tree.
    for (const file of job.sources) {
      fs.mkdirSync(path.dirname(path.join(srcDir, file)), { recursive: true });
      fs.cpSync(path.join(job.appDir, file), path.join(srcDir, file), { verbatimSymlinks: true });
    }
    fs.mkdirSync(outDir, { recursive: true });

    const output = new CompileOutput(job, step, this.logDir);
    try {
      const child = execa('nabla-compile', [], {
        cwd: srcDir,
        env: { ...job.env, NABLA_SRC: srcDir, NABLA_OUT: outDir },
        all: true,
        reject: false,
        cancelSignal: signal,
      });
      for await (const line of child.iterable({ from: 'all' })) output.line(line);
      const result = await child;
      throwIfAborted(signal);
      if (result.failed) throw output.failed(result.exitCode ?? result.signal ?? result.shortMessage ?? 'an error');
    } catch (error) {
      fs.rmSync(work, { recursive: true, force: true });
      throw error;
    } finally {
      output.close();
    }
    fs.rmSync(srcDir, { recursive: true, force: true });
    const dispose = () => fs.rmSync(work, { recursive: true, force: true });
    // This is the toolchain image: the folders it names, and its facts, are right here, read in place.
    let sharedRootfsDir: string | undefined;
    try {
      sharedRootfsDir = readSharedRootfs(job, outDir);
    } catch (error) {
      dispose();
      throw error;
    }
    const facts = new Map(TOOLCHAIN_FACTS.flatMap((file) => (fs.existsSync(file) ? [[file, fs.readFileSync(file, 'utf8')] as const] : [])));
    if (!job.zoneinfo) return { outDir, facts, sharedRootfsDir, dispose };
    if (!fs.existsSync(ZONEINFO_DIR)) {
      dispose();
      throw noZoneinfo(job);
    }
    return { outDir, facts, sharedRootfsDir, zoneinfoDir: ZONEINFO_DIR, dispose };
  }
}
