/**
 * rootfs.tar, the unikernel's disk: a deterministic tar (packTar) whose first member is an
 * index of all the others, so the libOS (native/libos/tar.c) builds its file tree from one
 * read at boot instead of reading every member's header, a page of the mapped disk each.
 *
 * The index is a regular file named INDEX_NAME (mode 0444, the tar's mtime) that the libOS
 * keeps out of the guest's tree. Its bytes, little-endian:
 *   "NABLAIDX", u32 version (1), u32 count, then count records of
 *   u64 data (where the member's bytes start in the tar), u64 size, i64 mtime,
 *   u32 mode (permission bits), u32 uid, u32 gid, u16 name length, u16 link length,
 *   u8 type (the tar typeflag), 7 zero bytes, the name, the link target (no NULs).
 * Names and link targets are the resolved ones (pax path/linkpath), so no header is read.
 * The records are the members in tar order: a later one replaces an earlier one, as in tar.
 */
import { pack } from 'tar-stream';
import { packTar, type TarEntry } from '../util/tar.js';

export const INDEX_NAME = '.nabla-index';
export const INDEX_MAGIC = 'NABLAIDX';
export const INDEX_VERSION = 1;
export const INDEX_RECORD = 48;
/** The longest name or link target the libOS takes (its buffers hold 4096 with the NUL). */
export const INDEX_NAME_MAX = 4095;

/** A member of the tar as the index records it. */
export interface IndexRecord {
  type: string; // the typeflag: '0' file, '5' folder, '2' symlink, '1' hard link
  name: Buffer;
  link: Buffer;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  data: number; // offset of its bytes in the tar the index is part of
}

/** packTar's tar of entries with the index in front. */
export async function packRootfs(entries: readonly TarEntry[], mtimeSeconds: number): Promise<Buffer> {
  const body = await packTar(entries, mtimeSeconds);
  const records = tarMembers(body);
  const size = 16 + records.reduce((n, r) => n + INDEX_RECORD + r.name.length + r.link.length, 0);
  // The index member (header and padded bytes) comes before the body: every offset moves by it.
  const shift = 512 + Math.ceil(size / 512) * 512;
  const index = encodeIndex(records.map((r) => (r.type === '0' ? { ...r, data: r.data + shift } : r)));
  const member = await indexMember(index, mtimeSeconds);
  if (member.length !== shift) throw new Error(`rootfs index member is ${member.length} bytes, expected ${shift}`);
  return Buffer.concat([member, body]);
}

function encodeIndex(records: readonly IndexRecord[]): Buffer {
  const head = Buffer.alloc(16);
  head.write(INDEX_MAGIC, 0, 'latin1');
  head.writeUInt32LE(INDEX_VERSION, 8);
  head.writeUInt32LE(records.length, 12);
  const parts: Buffer[] = [head];
  for (const r of records) {
    const fixed = Buffer.alloc(INDEX_RECORD);
    fixed.writeBigUInt64LE(BigInt(r.data), 0);
    fixed.writeBigUInt64LE(BigInt(r.size), 8);
    fixed.writeBigInt64LE(BigInt(r.mtime), 16);
    fixed.writeUInt32LE(r.mode, 24);
    fixed.writeUInt32LE(r.uid, 28);
    fixed.writeUInt32LE(r.gid, 32);
    fixed.writeUInt16LE(r.name.length, 36);
    fixed.writeUInt16LE(r.link.length, 38);
    fixed.writeUInt8(r.type.charCodeAt(0), 40);
    parts.push(fixed, r.name, r.link);
  }
  return Buffer.concat(parts);
}

/** The index as one tar member: its header and its bytes padded to 512, without the end blocks. */
async function indexMember(index: Buffer, mtimeSeconds: number): Promise<Buffer> {
  const tar = pack();
  tar.entry({ name: INDEX_NAME, type: 'file', mode: 0o444, size: index.length, mtime: new Date(mtimeSeconds * 1000), uid: 0, gid: 0, uname: '', gname: '' }, index);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  return all.subarray(0, all.length - 1024); // finalize's two zero blocks
}

/**
 * The members of a tar packTar wrote, in order, with their pax names resolved as tar.c
 * resolves them. Only what tar-stream writes is taken (ustar headers, pax 'x' records for
 * long names); anything else is a bug here, not a tar to guess at.
 */
export function tarMembers(tar: Buffer): IndexRecord[] {
  const out: IndexRecord[] = [];
  let paxName: Buffer | undefined;
  let paxLink: Buffer | undefined;
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    // The end: a zero block. Not a zero first byte: tar-stream writes a folder whose name
    // fits only the ustar prefix ("a/<120 bytes>/") with an empty name field.
    if (h.every((b) => b === 0)) break;
    const size = octal(h, 124, 12);
    const data = off + 512;
    off = data + Math.ceil(size / 512) * 512;
    const type = String.fromCharCode(h.readUInt8(156));
    if (off > tar.length) throw new Error(`tar member at ${data - 512} runs past the end`);
    if (type === 'x') {
      const rec = tar.subarray(data, data + size);
      paxName = paxValue(rec, 'path');
      paxLink = paxValue(rec, 'linkpath');
      continue;
    }
    if (!['0', '5', '2', '1'].includes(type)) throw new Error(`tar member of type ${JSON.stringify(type)}: not one packTar writes`);
    const prefix = field(h, 345, 155);
    const name = paxName ?? (prefix.length ? Buffer.concat([prefix, Buffer.from('/'), field(h, 0, 100)]) : field(h, 0, 100));
    const link = paxLink ?? field(h, 157, 100);
    paxName = paxLink = undefined;
    if (name.length > INDEX_NAME_MAX || link.length > INDEX_NAME_MAX) throw new Error(`tar name longer than ${INDEX_NAME_MAX} bytes: ${name.toString()}`);
    const record = { type, name, link, mode: octal(h, 100, 8) & 0o7777, uid: octal(h, 108, 8), gid: octal(h, 116, 8), mtime: octal(h, 136, 12), size, data };
    out.push(type === '0' ? record : { ...record, size: 0, data: 0 });
  }
  return out;
}

/** A NUL-terminated header field. */
function field(h: Buffer, at: number, len: number): Buffer {
  const f = h.subarray(at, at + len);
  const nul = f.indexOf(0);
  return Buffer.from(nul < 0 ? f : f.subarray(0, nul));
}

/** An octal header number, read as tar.c reads it: octal digits up to a NUL, others skipped. */
function octal(h: Buffer, at: number, len: number): number {
  if (h.readUInt8(at) & 0x80) throw new Error('tar number in base-256: not one packTar writes');
  let v = 0;
  for (let i = at; i < at + len && h.readUInt8(i) !== 0; i++) {
    const c = h.readUInt8(i);
    if (c >= 0x30 && c <= 0x37) v = v * 8 + (c - 0x30);
  }
  return v;
}

/** key's value in a pax record block ("LEN key=value\n"...), or undefined. */
function paxValue(rec: Buffer, key: string): Buffer | undefined {
  for (let i = 0; i < rec.length; ) {
    const space = rec.indexOf(0x20, i);
    const len = Number(rec.subarray(i, space).toString('latin1'));
    if (space < 0 || !Number.isInteger(len) || len <= 0 || i + len > rec.length) throw new Error('broken pax record');
    const kv = rec.subarray(space + 1, i + len - 1);
    const eq = kv.indexOf(0x3d);
    if (eq >= 0 && kv.subarray(0, eq).toString('latin1') === key) return Buffer.from(kv.subarray(eq + 1));
    i += len;
  }
  return undefined;
}
