/**
 * Fuzzing what `convert` reads from someone else's image: the ELF reader (src/convert/elf.ts)
 * on ELF files made by test/helpers/elf.ts with bytes overwritten, cut or appended, and on
 * random bytes behind an ELF magic; and the layer flattener and analysis on layer tars
 * whose bytes are overwritten. Whatever the input: a result of the promised shape, or an
 * ElfError / LayerError, never a TypeError, a RangeError or a hang.
 */
import fc from 'fast-check';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../../src/convert/analyze.js';
import { ElfError, readElf } from '../../../src/convert/elf.js';
import { flattenLayers, LayerError } from '../../../src/convert/flatten.js';
import { makeElf } from '../../helpers/elf.js';
import { FUZZ_TIMEOUT, fuzz } from './budget.js';

const seeds = [
  makeElf({ interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libm.so.6', 'libc.so.6'], runpath: '$ORIGIN/lib', imports: ['fork', 'dlopen'], exports: ['main'] }),
  makeElf({ type: 3, needed: ['libc.so.6'] }),
  makeElf({ type: 3, interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6'], flags1: 0x08000001 }), // a PIE
  makeElf({ bits: 32 }),
];

/** Bytes of a seed with some overwritten, the tail cut or junk appended. */
const mutated = (seed: Buffer) =>
  fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.nat(), fc.uint8Array({ maxLength: 64 })).map(([writes, cut, tail]) => {
    const bytes = Buffer.from(seed);
    for (const [at, value] of writes) bytes[at % bytes.length] = value;
    return Buffer.concat([bytes.subarray(0, bytes.length - (cut % 16 === 0 ? cut % bytes.length : 0)), Buffer.from(tail)]);
  });

const elfInputs = fc.oneof(
  ...seeds.map(mutated),
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]), Buffer.from(bytes)])),
);

function checkElf(bytes: Buffer): void {
  try {
    const info = readElf(bytes);
    expect([32, 64]).toContain(info.bits);
    expect(typeof info.pie).toBe('boolean');
    if (info.pie) expect(info.type).toBe('dyn');
    for (const list of [info.needed, info.runpath, info.imports, info.exports]) expect(list.every((s) => typeof s === 'string')).toBe(true);
  } catch (error) {
    if (!(error instanceof ElfError)) throw error;
  }
}

async function layerOf(files: { name: string; data: Buffer; type?: 'file' | 'symlink' | 'link'; linkname?: string }[]): Promise<Buffer> {
  const tar = pack();
  for (const { name, data, type = 'file', linkname } of files) tar.entry({ name, mode: 0o755, type, linkname }, type === 'file' ? data : Buffer.alloc(0));
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('fuzz: convert', () => {
  it(
    'readElf gives ElfInfo or ElfError on broken ELF files',
    async () => {
      await fuzz('convert-elf', fc.property(elfInputs, (bytes) => checkElf(bytes)));
    },
    FUZZ_TIMEOUT,
  );

  it(
    'flattening broken layers and analysing what is left gives a result or a LayerError',
    async () => {
      const layer = await layerOf([
        { name: 'usr/bin/app', data: seeds[0]! },
        { name: 'lib64/ld-linux-x86-64.so.2', data: seeds[1]! },
        { name: 'bin', data: Buffer.alloc(0), type: 'symlink', linkname: 'usr/bin' },
        { name: 'usr/bin/other', data: Buffer.alloc(0), type: 'link', linkname: 'usr/bin/app' },
        { name: 'usr/bin/.wh.gone', data: Buffer.alloc(0) },
      ]);
      await fuzz(
        'convert-layers',
        fc.asyncProperty(mutated(layer), async (bytes) => {
          try {
            const image = await flattenLayers([bytes]);
            const result = analyze(image, { entrypoint: [], cmd: ['app'], env: ['PATH=/bin:/usr/bin'], workingDir: '/', network: false });
            expect(typeof result.ok).toBe('boolean');
          } catch (error) {
            if (!(error instanceof LayerError)) throw error;
          }
        }),
      );
    },
    FUZZ_TIMEOUT,
  );
});
