/**
 * Runs `nabla-compile` in a fresh container of the toolchain image: the source goes in as
 * a tar, the compiler's output is streamed to the step, /nabla/out comes back as a tar, and
 * the container is removed on success, failure and Ctrl-C alike. The image's folders that
 * are the same for every compile (its /usr/share/zoneinfo, when asked; the folder named in
 * rootfs-shared) come back too, once per image when there is a ToolchainFiles to keep them.
 * With one, a toolchain that asks for a compile cache gets its image's cache folder mounted
 * at $NABLA_CACHE; an engine that cannot see that folder (a remote one) compiles without.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extract } from 'tar-stream';
import type { BindMount, Container, ContainerSpec, Engine } from '../engine/engine.js';
import { debug } from '../util/debug.js';
import { CompileError, errorMessage, throwIfAborted, ToolchainError } from '../util/errors.js';
import type { Step } from '../util/progress.js';
import { packTar } from '../util/tar.js';
import { untar } from '../util/untar.js';
import { CompileOutput } from './compile-output.js';
import type { ToolchainFiles } from './toolchain-files.js';
import { CACHE_DIR, noZoneinfo, readSharedRootfs, TOOLCHAIN_FACTS, ZONEINFO_DIR, type CompileJob, type CompileResult, type Executor } from './types.js';

const log = debug('executor');

export class DockerExecutor implements Executor {
  /** logDir: where the compile's full output is kept; files: where image folders are kept between builds. */
  constructor(
    private readonly engine: Engine,
    private readonly logDir: string,
    private readonly files?: ToolchainFiles,
  ) {}

  async compile(job: CompileJob, step: Step, signal?: AbortSignal): Promise<CompileResult> {
    // Kept per image ID with a ToolchainFiles: the image never changes under its ID.
    const imageId = this.files && (await this.engine.inspectImage(job.image))?.id;
    const cache = job.cache && this.files && imageId ? await this.files.compileCache(imageId) : undefined;
    const container = await this.createContainer(job, step, cache);
    log(`container ${container.id.slice(0, 12)} from ${job.image}`);
    // Ctrl-C stops the container; `finally` below removes it, awaited, before we exit.
    const killOnAbort = () => void container.kill().catch(() => {});
    signal?.addEventListener('abort', killOnAbort, { once: true });
    const output = new CompileOutput(job, step, this.logDir);
    try {
      await container.putArchive(await sourceTar(job), '/');
      const status = await container.run((line) => output.line(line)).catch((error: unknown) => {
        throw /executable file not found|no such file or directory/.test(errorMessage(error)) ? noCompiler(job, error) : error;
      });
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
      try {
        const facts = await this.facts(container, imageId);
        const imageFolder = this.imageFolders(container, work, imageId);
        const sharedPath = readSharedRootfs(job, outDir);
        const sharedRootfsDir = sharedPath ? await imageFolder(sharedPath, 'shared') : undefined;
        if (!job.zoneinfo) return { outDir, facts, sharedRootfsDir, dispose };
        const zoneinfoDir = await imageFolder(ZONEINFO_DIR, 'zoneinfo').catch((error: unknown) => {
          throw noZoneinfo(job, error);
        });
        return { outDir, facts, sharedRootfsDir, zoneinfoDir, dispose };
      } catch (error) {
        dispose();
        throw error;
      }
    } catch (error) {
      throwIfAborted(signal);
      throw error;
    } finally {
      signal?.removeEventListener('abort', killOnAbort);
      output.close();
      await container.remove().catch(() => {});
    }
  }

  /** The compile's container, with the cache folder mounted when there is one and the engine can see it. */
  private async createContainer(job: CompileJob, step: Step, cache: string | undefined): Promise<Container> {
    const spec = (mounts: BindMount[], env: Record<string, string>): ContainerSpec => ({
      image: job.image,
      cmd: ['nabla-compile'],
      env: { ...job.env, NABLA_SRC: '/nabla/src', NABLA_OUT: '/nabla/out', ...env },
      workingDir: '/nabla/src',
      // Which app it compiles, for `docker ps` (and for tests that run builds side by side).
      labels: { 'dev.nabla.build': 'compile', 'dev.nabla.app': job.appDir },
      network: job.network,
      mounts,
    });
    if (!cache) return this.engine.createContainer(spec([], {}));
    try {
      return await this.engine.createContainer(spec([{ source: cache, target: CACHE_DIR }], { NABLA_CACHE: CACHE_DIR }));
    } catch (error) {
      // The engine runs elsewhere (DOCKER_HOST, or nabla-build in a container): no such folder there.
      if (!/bind source path does not exist|no such file or directory/i.test(errorMessage(error))) throw error;
      step.note(`no compile cache: the engine cannot see ${cache}`);
      log(`compile cache not mounted: ${errorMessage(error)}`);
      return this.engine.createContainer(spec([], {}));
    }
  }

  /** The TOOLCHAIN_FACTS the image has: read once per image ID with a ToolchainFiles, as its folders are. */
  private async facts(container: Container, imageId: string | undefined): Promise<Map<string, string>> {
    if (!this.files || !imageId) return readFacts(container);
    const dir = await this.files.folder(imageId, 'sbom-facts', async (into) => {
      for (const [file, text] of await readFacts(container)) fs.writeFileSync(path.join(into, encodeURIComponent(file)), text);
    });
    return new Map(fs.readdirSync(dir).map((name) => [decodeURIComponent(name), fs.readFileSync(path.join(dir, name), 'utf8')]));
  }

  /** Brings a folder of the image to the host: kept per image ID with a ToolchainFiles, else under work. */
  private imageFolders(container: Container, work: string, imageId: string | undefined) {
    const copy = async (imagePath: string, into: string) =>
      untar(await container.getArchive(imagePath), into, `${path.posix.basename(imagePath)}/`);
    return async (imagePath: string, name: string): Promise<string> => {
      if (this.files && imageId) return this.files.folder(imageId, imagePath, (into) => copy(imagePath, into));
      const dir = path.join(work, name);
      fs.mkdirSync(dir);
      await copy(imagePath, dir);
      return dir;
    };
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

/** The image cannot start nabla-compile: it does not keep the compile contract. */
function noCompiler(job: CompileJob, cause: unknown): ToolchainError {
  return new ToolchainError(`toolchain image ${job.image} has no nabla-compile on its PATH, so it cannot compile apps`, {
    file: 'toolchains/README.md',
    hint: 'a toolchain image must keep the compile contract: an executable nabla-compile on its PATH (see "The compile contract")',
    cause,
  });
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
