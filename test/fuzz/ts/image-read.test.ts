/**
 * Fuzzing `inspect`'s reader (src/image/read.ts and tar-stream/zlib under it): OCI layouts
 * (folder and tar) and docker archives made by the real image writer, then broken: a file's
 * JSON replaced or one value in it changed, a blob's bytes replaced, a file left out, the
 * archive's bytes cut or overwritten. Whatever the input, readImage gives a summary of the
 * promised shape, and readReferrer (`inspect --sbom`) the SBOM's bytes, or a NablaError (one
 * clear message): never a TypeError, a SyntaxError or a hang.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, digestHex } from '../../../src/image/oci.js';
import { layoutFiles } from '../../../src/image/publishers/oci-layout.js';
import { readImage, readReferrer, type ImageSummary } from '../../../src/image/read.js';
import { attach } from '../../../src/image/referrers.js';
import { NablaError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/cli.js';
import { FUZZ_TIMEOUT, fuzz } from './budget.js';

type Files = Map<string, Buffer>;
const SBOM = 'application/vnd.cyclonedx+json';
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

let oci: Files;
let docker: Files;
const work = tempDir('nabla-fuzz-image-');

beforeAll(async () => {
  const image = await buildImage({
    entries: [
      { type: 'file', path: '/nabla/app.nabla', mode: 0o755, data: Buffer.from('\x7fELF') },
      { type: 'symlink', path: '/nabla/link', target: 'app.nabla' },
    ],
    config: { entrypoint: ['/nabla/nabla-run'], cmd: [], env: ['A=1'], workingDir: '/app', exposedPorts: ['8080/tcp'], labels: { l: 'v' } },
    sourceDateEpoch: 0,
  });
  // The layout as the publisher writes it: the image, and its SBOM as a referrer.
  oci = new Map(layoutFiles(attach(image, SBOM, Buffer.from('{"bomFormat":"CycloneDX"}'), {}), []).map((f) => [f.path, f.data]));
  const id = digestHex(image.config.digest);
  docker = new Map([
    ['manifest.json', json([{ Config: `${id}.json`, RepoTags: ['app:latest'], Layers: [`${id}/layer.tar`] }])],
    [`${id}.json`, image.config.data],
    [`${id}/layer.tar`, image.layers[0]!.uncompressed],
  ]);
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

async function tarOf(files: Files): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => tar.on('end', () => resolve()));
  for (const [name, data] of files) tar.entry({ name, size: data.length, mode: 0o644 }, data);
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A JSON value with one place in it (chosen by `pick`) set to `value`. */
function setSomewhere(doc: unknown, pick: number, value: unknown): unknown {
  const places: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (places.push({ parent: v, key: i }), walk(x)));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) places.push({ parent: v as Record<string, unknown>, key: k }), walk(x);
  };
  walk(doc);
  if (places.length === 0) return value;
  const { parent, key } = places[pick % places.length]!;
  (parent as Record<string | number, unknown>)[key] = value;
  return doc;
}

/** One way to break a set of files: its kind, which file, and what goes there. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('json' as const), file: fc.nat(), value: fc.jsonValue() }),
  fc.record({ kind: fc.constant('value' as const), file: fc.nat(), pick: fc.nat(), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('bytes' as const), file: fc.nat(), bytes: fc.uint8Array({ maxLength: 2048 }) }),
  fc.record({ kind: fc.constant('drop' as const), file: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(base: Files, mutations: Mutation[]): Files {
  const files = new Map(base);
  for (const m of mutations) {
    const names = [...files.keys()];
    if (names.length === 0) break;
    const name = names[m.file % names.length]!;
    if (m.kind === 'drop') files.delete(name);
    else if (m.kind === 'bytes') files.set(name, Buffer.from(m.bytes));
    else if (m.kind === 'json') files.set(name, json(m.value));
    else {
      let doc: unknown;
      try {
        doc = JSON.parse(files.get(name)!.toString('utf8'));
      } catch {
        continue; // a blob that is not JSON (the layer)
      }
      files.set(name, json(setSomewhere(doc, m.pick, m.value)));
    }
  }
  return files;
}

/** Damage to the archive's own bytes: cut at a point, or overwritten at one. */
const damage = fc.option(
  fc.oneof(
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  ),
  { freq: 2 },
);
type Harm = { kind: 'cut'; at: number } | { kind: 'overwrite'; at: number; bytes: Uint8Array } | null;

let n = 0;
/** Writes the files as a folder or a tar and reads them back: the summary, or the error. */
async function read(files: Files, asTar: boolean, harm: Harm, sbom = false): Promise<ImageSummary | Buffer | Error> {
  const target = path.join(work, `in-${n++}`);
  if (asTar) {
    let tar = await tarOf(files);
    if (harm?.kind === 'cut') tar = tar.subarray(0, harm.at % (tar.length + 1));
    if (harm?.kind === 'overwrite') Buffer.from(harm.bytes).copy(tar, harm.at % tar.length);
    fs.writeFileSync(target, tar);
  } else {
    for (const [name, data] of files) {
      fs.mkdirSync(path.dirname(path.join(target, name)), { recursive: true });
      fs.writeFileSync(path.join(target, name), data);
    }
    fs.mkdirSync(target, { recursive: true });
  }
  try {
    return await (sbom ? readReferrer(target, SBOM) : readImage(target));
  } catch (error) {
    return error as Error;
  } finally {
    fs.rmSync(target, { recursive: true, force: true });
  }
}

function expectSummaryOrNablaError(got: ImageSummary | Buffer | Error): void {
  if (got instanceof Error) {
    // Anything else reaches the user as "internal error ... please report it".
    expect(got, `${got.name}: ${got.message}`).toBeInstanceOf(NablaError);
    expect(got.message).not.toContain('\n');
    return;
  }
  if (Buffer.isBuffer(got)) return; // the SBOM's bytes, whatever they are: inspect --sbom prints them as they are
  expect(typeof got.imageId).toBe('string');
  // The types ImageConfigJson promises: inspect prints these fields as such.
  const strings = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  const record = (v: unknown, of: string) => v === undefined || (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === of));
  expect(got.config !== null && typeof got.config === 'object' && !Array.isArray(got.config)).toBe(true);
  const { created, os, architecture, config } = got.config;
  for (const v of [created, os, architecture]) expect(v === undefined || typeof v === 'string', String(v)).toBe(true);
  if (config !== undefined) {
    expect(config !== null && typeof config === 'object' && !Array.isArray(config), JSON.stringify(config)).toBe(true);
    expect(strings(config.Entrypoint) && strings(config.Cmd) && strings(config.Env), JSON.stringify(config)).toBe(true);
    expect(config.WorkingDir === undefined || typeof config.WorkingDir === 'string').toBe(true);
    expect(record(config.Labels, 'string') && record(config.ExposedPorts, 'object'), JSON.stringify(config)).toBe(true);
  }
  for (const layer of got.layers) {
    expect(typeof layer.digest).toBe('string');
    expect(Number.isFinite(layer.size)).toBe(true);
    for (const f of layer.files) expect(typeof f).toBe('string');
  }
}

describe('fuzz: inspect reads OCI layouts and docker archives', () => {
  it('the unbroken images read back', async () => {
    for (const [files, format] of [[oci, 'oci-archive'], [docker, 'docker-archive']] as const) {
      const got = await read(files, true, null);
      expect(got).not.toBeInstanceOf(Error);
      expect((got as ImageSummary).format).toBe(format);
      expect((got as ImageSummary).layers[0]!.files).toContain('nabla/app.nabla');
    }
    expect(((await read(oci, false, null)) as ImageSummary).format).toBe('oci-layout');
    expect(((await read(oci, true, null, true)) as Buffer).toString()).toBe('{"bomFormat":"CycloneDX"}');
  });

  it(
    'broken ones: a summary or a NablaError, nothing else',
    async () => {
      await fuzz(
        'image-read',
        fc.asyncProperty(fc.boolean(), fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 3 }), damage, fc.boolean(), async (isOci, asTar, mutations, harm, sbom) => {
          expectSummaryOrNablaError(await read(mutate(isOci ? oci : docker, mutations), asTar, asTar ? harm : null, sbom));
        }),
      );
    },
    FUZZ_TIMEOUT,
  );
});
