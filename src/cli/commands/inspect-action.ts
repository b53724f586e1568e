/** The body of `inspect`, loaded only when it runs. */
import fs from 'node:fs';
import { readImage, readReferrer, type ImageSummary } from '../../image/read.js';
import { SBOM_MEDIA_TYPE } from '../../sbom/sbom.js';
import { ConfigError } from '../../util/errors.js';
import { engine } from '../engine.js';

export async function inspect(target: string, flags: { files?: boolean; json?: boolean; sbom?: boolean }): Promise<void> {
  if (flags.sbom) {
    if (!fs.existsSync(target)) {
      throw new ConfigError(`"${target}" is not an OCI layout folder or tar: --sbom reads the SBOM from one`, {
        field: 'image-or-path',
        hint: 'the Docker engine keeps no SBOM; use the layout of `--output type=oci,dest=…`, or `build --sbom FILE`',
      });
    }
    process.stdout.write(await readReferrer(target, SBOM_MEDIA_TYPE));
    return;
  }
  const summary = fs.existsSync(target) ? await readImage(target) : await fromEngine(target);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ digest: summary.digest, imageId: summary.imageId, ...summary.config }, null, 2) + '\n');
    return;
  }
  const c = summary.config.config ?? {};
  const rows: [string, string][] = [
    ['format', summary.format],
    ['digest', summary.digest ?? '(not recorded in this format)'],
    ['image id', summary.imageId],
    ['created', summary.config.created ?? '-'],
    ['platform', `${summary.config.os ?? '?'}/${summary.config.architecture ?? '?'}`],
    ['entrypoint', JSON.stringify(c.Entrypoint ?? [])],
    ['workdir', c.WorkingDir ?? '/'],
    ['env', (c.Env ?? []).join(' ') || '-'],
    ['ports', Object.keys(c.ExposedPorts ?? {}).join(' ') || '-'],
    ['layers', summary.layers.map((l) => `${l.digest.slice(0, 19)} (${kib(l.size)})`).join(', ') || '-'],
  ];
  for (const [key, value] of rows) process.stdout.write(`${key.padEnd(11)} ${value}\n`);
  const labels = Object.entries(c.Labels ?? {});
  if (labels.length > 0) {
    process.stdout.write('labels\n');
    for (const [key, value] of labels) process.stdout.write(`  ${key} = ${value}\n`);
  }
  if (flags.files) {
    process.stdout.write('files\n');
    for (const layer of summary.layers) for (const file of layer.files) process.stdout.write(`  ${file}\n`);
  }
}

function kib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function fromEngine(name: string): Promise<ImageSummary> {
  const info = await (await engine()).inspectImage(name);
  if (!info) {
    throw new ConfigError(`"${name}" is neither a file nor an image Docker knows`, {
      field: 'image-or-path',
      hint: 'check the path, or `docker images` for the name',
    });
  }
  return {
    format: 'docker-engine',
    digest: info.repoDigests[0]?.split('@')[1],
    imageId: info.id,
    config: { created: info.created, os: info.os, architecture: info.architecture, config: info.config },
    layers: [],
  };
}
