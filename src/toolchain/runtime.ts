/**
 * The tender and the standalone libOS as the c toolchain image holds them
 * (/opt/nabla/bin/nabla-run, /opt/nabla/lib/libos.nabla, built there by build-nabla.sh; the
 * go and node toolchains copy the same two files), with the seccomp policy the tender
 * prints for them: what `convert` puts beside a program it did not build. Nothing is
 * rebuilt; a container of the image copies them out, as a compile would, once per image
 * when they can be kept.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Engine } from '../engine/engine.js';
import { ToolchainError } from '../util/errors.js';
import { untar } from '../util/untar.js';

export interface Runtime {
  /** A folder holding nabla-run and libos.nabla. */
  dir: string;
  /** `nabla-run --print-policy=any-host`, one rule a line: without and with the container's network. */
  policy: string[];
  policyNet: string[];
  /** Removes `dir`, unless it is kept for the next conversion. */
  dispose(): void;
}

const SCRIPT = `set -e
mkdir -p /nabla/out
cp /opt/nabla/bin/nabla-run /opt/nabla/lib/libos.nabla /nabla/out/
/opt/nabla/bin/nabla-run --print-policy=any-host --disk=/dev/null > /nabla/out/policy.txt
/opt/nabla/bin/nabla-run --print-policy=any-host --disk=/dev/null --net-from=eth0 > /nabla/out/policy-net.txt`;

/**
 * Where folders made once per image ID are kept between runs: executor/toolchain-files.ts's
 * ToolchainFiles (given by build/, which may know it; this layer may not).
 */
export interface KeptFolders {
  folder(imageId: string, name: string, fill: (into: string) => Promise<void>): Promise<string>;
}

/** With `kept`, copied once per image ID: its tender, libOS and their policy never change under it. */
export async function fetchRuntime(engine: Engine, image: string, kept?: KeptFolders): Promise<Runtime> {
  const imageId = kept && (await engine.inspectImage(image))?.id;
  if (kept && imageId) {
    const dir = await kept.folder(imageId, 'convert-runtime', (into) => copyRuntime(engine, image, into));
    return readRuntime(dir, () => {});
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-runtime-'));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    await copyRuntime(engine, image, dir);
    return readRuntime(dir, dispose);
  } catch (error) {
    dispose();
    throw error;
  }
}

/** Runs SCRIPT in a container of the image and brings /nabla/out into `into`. */
async function copyRuntime(engine: Engine, image: string, into: string): Promise<void> {
  const container = await engine.createContainer({
    image,
    cmd: ['sh', '-c', SCRIPT],
    env: {},
    workingDir: '/',
    labels: { 'dev.nabla.build': 'convert-runtime' },
    network: 'none',
  });
  const lines: string[] = [];
  try {
    const status = await container.run((line) => lines.push(line));
    if (status !== 0) {
      throw new ToolchainError(`${image} has no tender and libOS to copy (exit ${status}): ${lines.slice(-3).join(' | ')}`, {
        hint: 'rebuild the c toolchain: `nabla-build toolchain build c --force`',
      });
    }
    await untar(await container.getArchive('/nabla/out'), into, 'out/');
  } finally {
    await container.remove().catch(() => {});
  }
}

function readRuntime(dir: string, dispose: () => void): Runtime {
  const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8').trim().split('\n');
  return { dir, policy: read('policy.txt'), policyNet: read('policy-net.txt'), dispose };
}
