/**
 * What `convert` needs to know of an ELF file from someone else's image: its class,
 * machine and type, its loader (PT_INTERP), the libraries it names (DT_NEEDED), where it
 * looks for them (DT_RUNPATH, DT_RPATH) and the symbols it imports (undefined entries of
 * .dynsym). The input is hostile: every read is bounds-checked, every count capped, and a
 * broken file gives an ElfError, never an exception of another kind or a read past the end.
 */

export class ElfError extends Error {}

export interface ElfInfo {
  bits: 32 | 64;
  /** e_machine: 62 is x86-64. */
  machine: number;
  /** exec: ET_EXEC (linked at fixed addresses); dyn: ET_DYN (PIE or a shared library). */
  type: 'exec' | 'dyn' | 'other';
  /** ET_DYN made to run (a PIE, a static-pie), not only a shared library: DF_1_PIE, or a loader where there is no DT_FLAGS_1. */
  pie: boolean;
  /** PT_INTERP's path, or undefined when statically linked. */
  interp?: string;
  needed: string[];
  /** DT_RUNPATH, else DT_RPATH, split at ':'. */
  runpath: string[];
  /** Names of undefined dynamic symbols (what it takes from its libraries). */
  imports: string[];
  /** Names of defined dynamic symbols (what a library offers). */
  exports: string[];
}

export const EM_X86_64 = 62;
const MAX_HEADERS = 4096;
const MAX_SYMBOLS = 200_000;
const MAX_DYNAMIC = 10_000;
const MAX_STRING = 4096;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const SHT_DYNSYM = 11;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const DT_FLAGS_1 = 0x6ffffffb;
const DF_1_PIE = 0x08000000;

/** Whether the bytes start like an ELF file (the magic only). */
export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

/** Reads little-endian fields at checked offsets; anything out of range is an ElfError. */
class Reader {
  constructor(private readonly data: Uint8Array) {}

  get size(): number {
    return this.data.length;
  }

  private check(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset > this.data.length - length) {
      throw new ElfError(`reads past the end of the file (offset ${offset}, ${length} bytes)`);
    }
  }

  /**
   * The unsigned little-endian field of `bytes` bytes at offset, as a number; a 64-bit value
   * past 2^53 cannot be an offset into a file we hold.
   */
  uint(offset: number, bytes: 1 | 2 | 4 | 8): number {
    this.check(offset, bytes);
    let value = 0;
    for (let i = bytes - 1; i >= 0; i--) value = value * 256 + this.data[offset + i]!;
    if (!Number.isSafeInteger(value)) throw new ElfError(`value at ${offset} is too large`);
    return value;
  }

  /** The NUL-terminated string at offset, which must end inside [offset, limit). */
  string(offset: number, limit: number): string {
    this.check(offset, 0);
    const end = Math.min(limit, this.data.length, offset + MAX_STRING);
    for (let i = offset; i < end; i++) {
      if (this.data[i] === 0) return Buffer.from(this.data.subarray(offset, i)).toString('latin1');
    }
    throw new ElfError(`unterminated string at ${offset}`);
  }
}

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

/** Parses the headers; throws ElfError on anything malformed. */
export function readElf(data: Uint8Array): ElfInfo {
  if (!isElf(data)) throw new ElfError('not an ELF file');
  const r = new Reader(data);
  const cls = r.uint(4, 1);
  if (r.uint(5, 1) !== 1) throw new ElfError('not little-endian');
  const machine = r.uint(18, 2);
  const etype = r.uint(16, 2);
  const type = etype === 2 ? 'exec' : etype === 3 ? 'dyn' : 'other';
  if (cls === 1) return { bits: 32, machine, type, pie: false, needed: [], runpath: [], imports: [], exports: [] };
  if (cls !== 2) throw new ElfError(`unknown ELF class ${cls}`);

  const phoff = r.uint(32, 8);
  const shoff = r.uint(40, 8);
  const phentsize = r.uint(54, 2);
  const phnum = r.uint(56, 2);
  const shentsize = r.uint(58, 2);
  const shnum = r.uint(60, 2);
  if (phnum > 0 && phentsize < 56) throw new ElfError('program header entries too small');
  if (phnum > MAX_HEADERS) throw new ElfError('too many program headers');

  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    segments.push({ type: r.uint(at, 4), offset: r.uint(at + 8, 8), vaddr: r.uint(at + 16, 8), filesz: r.uint(at + 32, 8) });
  }
  const info: ElfInfo = { bits: 64, machine, type, pie: false, needed: [], runpath: [], imports: [], exports: [] };

  const interp = segments.find((s) => s.type === PT_INTERP);
  if (interp) info.interp = r.string(interp.offset, interp.offset + interp.filesz);

  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  const flags1 = dynamic ? readDynamic(r, dynamic, segments.filter((s) => s.type === PT_LOAD), info) : undefined;
  // ET_DYN is a PIE or a shared library: DF_1_PIE says which where the linker wrote
  // DT_FLAGS_1; else a loader named means it runs as a program (libc.so.6 does: it prints
  // its version), as Linux would run it.
  if (type === 'dyn') info.pie = flags1 !== undefined ? (flags1 & DF_1_PIE) !== 0 : info.interp !== undefined;

  if (shnum > 0 && shentsize >= 64 && shnum <= MAX_HEADERS) readDynsym(r, shoff, shentsize, shnum, info);
  return info;
}

/** A virtual address to its offset in the file, through the PT_LOAD that maps it. */
function fileOffset(loads: Segment[], vaddr: number): number {
  for (const load of loads) {
    if (vaddr >= load.vaddr && vaddr - load.vaddr < load.filesz) return load.offset + (vaddr - load.vaddr);
  }
  throw new ElfError(`address 0x${vaddr.toString(16)} is in no loaded segment`);
}

/** Fills needed and runpath; returns DT_FLAGS_1, if there is one. */
function readDynamic(r: Reader, dynamic: Segment, loads: Segment[], info: ElfInfo): number | undefined {
  const count = Math.min(Math.floor(dynamic.filesz / 16), MAX_DYNAMIC);
  const entries: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const tag = r.uint(dynamic.offset + i * 16, 8);
    if (tag === 0) break;
    // d_val of tags we do not read may be anything (flags, large addresses): read lazily.
    entries.push([tag, dynamic.offset + i * 16 + 8]);
  }
  const value = (tag: number) => {
    const entry = entries.find(([t]) => t === tag);
    return entry ? r.uint(entry[1], 8) : undefined;
  };
  const flags1 = value(DT_FLAGS_1);
  const strtab = value(DT_STRTAB);
  if (strtab === undefined) return flags1;
  const start = fileOffset(loads, strtab);
  const limit = start + (value(DT_STRSZ) ?? r.size - start);
  const name = (at: number) => r.string(start + r.uint(at, 8), limit);
  let runpath: string | undefined;
  let rpath: string | undefined;
  for (const [tag, at] of entries) {
    if (tag === DT_NEEDED) info.needed.push(name(at));
    else if (tag === DT_RUNPATH) runpath = name(at);
    else if (tag === DT_RPATH) rpath = name(at);
  }
  info.runpath = (runpath ?? rpath ?? '').split(':').filter((dir) => dir !== '');
  return flags1;
}

function readDynsym(r: Reader, shoff: number, shentsize: number, shnum: number, info: ElfInfo): void {
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return { type: r.uint(at + 4, 4), offset: r.uint(at + 24, 8), size: r.uint(at + 32, 8), link: r.uint(at + 40, 4), entsize: r.uint(at + 56, 8) };
  };
  for (let i = 0; i < shnum; i++) {
    const symtab = section(i);
    if (symtab.type !== SHT_DYNSYM) continue;
    if (symtab.link >= shnum || symtab.entsize < 24) throw new ElfError('malformed .dynsym');
    const strings = section(symtab.link);
    const count = Math.floor(symtab.size / symtab.entsize);
    if (count > MAX_SYMBOLS) throw new ElfError('too many dynamic symbols');
    for (let s = 1; s < count; s++) {
      const at = symtab.offset + s * symtab.entsize;
      const nameOffset = r.uint(at, 4);
      if (nameOffset === 0) continue;
      const name = r.string(strings.offset + nameOffset, strings.offset + strings.size);
      (r.uint(at + 6, 2) === 0 ? info.imports : info.exports).push(name);
    }
    return;
  }
}
