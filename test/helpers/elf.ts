/**
 * Small ELF files made byte by byte for the tests of src/convert: a header, program headers
 * (PT_LOAD over the whole file, PT_INTERP, PT_DYNAMIC with DT_NEEDED/DT_RUNPATH/DT_FLAGS_1), and a
 * section table with .dynsym and .dynstr, as a linker lays them out.
 */
export interface ElfSpec {
  bits?: 32 | 64;
  machine?: number;
  /** 2 ET_EXEC, 3 ET_DYN. */
  type?: number;
  interp?: string;
  needed?: string[];
  runpath?: string;
  /** DT_FLAGS_1 (0x08000000: DF_1_PIE), left out when undefined. */
  flags1?: number;
  imports?: string[];
  exports?: string[];
}

export function makeElf(spec: ElfSpec = {}): Buffer {
  const { bits = 64, machine = 62, type = 2, interp, needed = [], runpath, flags1, imports = [], exports = [] } = spec;
  if (bits === 32) {
    const header = Buffer.alloc(52);
    header.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    header.writeUInt16LE(type, 16);
    header.writeUInt16LE(machine === 62 ? 3 : machine, 18);
    return header;
  }
  // .dynstr: "\0", then every name.
  const strings: string[] = [];
  const dynstr: number[] = [0];
  const add = (text: string) => {
    const at = dynstr.length;
    dynstr.push(...Buffer.from(`${text}\0`, 'latin1'));
    strings.push(text);
    return at;
  };
  const neededAt = needed.map(add);
  const runpathAt = runpath === undefined ? undefined : add(runpath);
  const symbols = [...imports.map((name) => ({ name: add(name), defined: false })), ...exports.map((name) => ({ name: add(name), defined: true }))];

  const base = 0x400000;
  const phnum = 1 + (interp ? 1 : 0) + 1;
  const phoff = 64;
  let offset = phoff + phnum * 56;
  const interpAt = offset;
  const interpBytes = interp ? Buffer.from(`${interp}\0`, 'latin1') : Buffer.alloc(0);
  offset += interpBytes.length;
  const dynstrAt = offset;
  offset += dynstr.length;
  offset = (offset + 7) & ~7;
  const dynamicEntries: [number, number][] = [...neededAt.map((at): [number, number] => [1, at]), [5, base + dynstrAt], [10, dynstr.length]];
  if (runpathAt !== undefined) dynamicEntries.push([29, runpathAt]);
  if (flags1 !== undefined) dynamicEntries.push([0x6ffffffb, flags1]);
  dynamicEntries.push([0, 0]);
  const dynamicAt = offset;
  offset += dynamicEntries.length * 16;
  const dynsymAt = offset;
  offset += (symbols.length + 1) * 24;
  const shoff = offset;
  const shnum = 3; // null, .dynsym, .dynstr
  const size = shoff + shnum * 64;
  const elf = Buffer.alloc(size);

  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  elf.writeUInt16LE(type, 16);
  elf.writeUInt16LE(machine, 18);
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(base + 0x1000), 24);
  elf.writeBigUInt64LE(BigInt(phoff), 32);
  elf.writeBigUInt64LE(BigInt(shoff), 40);
  elf.writeUInt16LE(64, 52);
  elf.writeUInt16LE(56, 54);
  elf.writeUInt16LE(phnum, 56);
  elf.writeUInt16LE(64, 58);
  elf.writeUInt16LE(shnum, 60);

  const phdr = (i: number, ptype: number, off: number, filesz: number) => {
    const at = phoff + i * 56;
    elf.writeUInt32LE(ptype, at);
    elf.writeUInt32LE(5, at + 4);
    elf.writeBigUInt64LE(BigInt(off), at + 8);
    elf.writeBigUInt64LE(BigInt(base + off), at + 16);
    elf.writeBigUInt64LE(BigInt(base + off), at + 24);
    elf.writeBigUInt64LE(BigInt(filesz), at + 32);
    elf.writeBigUInt64LE(BigInt(filesz), at + 40);
  };
  let i = 0;
  phdr(i++, 1, 0, size); // PT_LOAD: the whole file
  if (interp) phdr(i++, 3, interpAt, interpBytes.length);
  phdr(i++, 2, dynamicAt, dynamicEntries.length * 16);
  interpBytes.copy(elf, interpAt);
  Buffer.from(dynstr).copy(elf, dynstrAt);
  dynamicEntries.forEach(([tag, value], n) => {
    elf.writeBigUInt64LE(BigInt(tag), dynamicAt + n * 16);
    elf.writeBigUInt64LE(BigInt(value), dynamicAt + n * 16 + 8);
  });
  symbols.forEach((symbol, n) => {
    const at = dynsymAt + (n + 1) * 24;
    elf.writeUInt32LE(symbol.name, at);
    elf.writeUInt16LE(symbol.defined ? 1 : 0, at + 6);
  });
  const section = (n: number, stype: number, off: number, sz: number, link: number, entsize: number) => {
    const at = shoff + n * 64;
    elf.writeUInt32LE(stype, at + 4);
    elf.writeBigUInt64LE(BigInt(off), at + 24);
    elf.writeBigUInt64LE(BigInt(sz), at + 32);
    elf.writeUInt32LE(link, at + 40);
    elf.writeBigUInt64LE(BigInt(entsize), at + 56);
  };
  section(1, 11, dynsymAt, (symbols.length + 1) * 24, 2, 24);
  section(2, 3, dynstrAt, dynstr.length, 0, 0);
  return elf;
}
