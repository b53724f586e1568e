/** rootfs.tar's index (src/rootfs/disk.ts), read back with its own decoder and checked against tar-stream's reading of the same tar. */
import { describe, expect, it } from 'vitest';
import { INDEX_MAGIC, INDEX_NAME, INDEX_RECORD, INDEX_VERSION, type IndexRecord, packRootfs, tarMembers } from '../../src/rootfs/disk.js';
import { packTar, type TarEntry } from '../../src/util/tar.js';
import { tarEntries } from '../helpers/tar.js';

/** The index's records, decoded as native/libos/tar.c reads them (the layout in disk.ts). */
function decodeIndex(index: Buffer): IndexRecord[] {
  expect(index.subarray(0, 8).toString('latin1')).toBe(INDEX_MAGIC);
  expect(index.readUInt32LE(8)).toBe(INDEX_VERSION);
  const out: IndexRecord[] = [];
  let at = 16;
  for (let i = index.readUInt32LE(12); i > 0; i--) {
    const nameLen = index.readUInt16LE(at + 36);
    const linkLen = index.readUInt16LE(at + 38);
    expect(index.subarray(at + 41, at + INDEX_RECORD).equals(Buffer.alloc(7))).toBe(true);
    const name = index.subarray(at + INDEX_RECORD, at + INDEX_RECORD + nameLen);
    out.push({
      data: Number(index.readBigUInt64LE(at)),
      size: Number(index.readBigUInt64LE(at + 8)),
      mtime: Number(index.readBigInt64LE(at + 16)),
      mode: index.readUInt32LE(at + 24),
      uid: index.readUInt32LE(at + 28),
      gid: index.readUInt32LE(at + 32),
      type: String.fromCharCode(index.readUInt8(at + 40)),
      name: Buffer.from(name),
      link: Buffer.from(index.subarray(at + INDEX_RECORD + nameLen, at + INDEX_RECORD + nameLen + linkLen)),
    });
    at += INDEX_RECORD + nameLen + linkLen;
  }
  expect(at).toBe(index.length); // nothing after the last record
  return out;
}

const longDir = `app/${'d'.repeat(120)}`; // past ustar's 100-byte name: a prefix split
const longName = `app/${'n'.repeat(200)}.txt`; // no split fits 100 + 155: a pax path
const deepName = `app/${Array.from({ length: 40 }, (_, i) => `part-${i}`).join('/')}/${'z'.repeat(90)}`;
const entries: TarEntry[] = [
  { type: 'file', path: '/app/main.py', mode: 0o644, data: Buffer.from('print("hi")\n') },
  { type: 'file', path: '/app/run', mode: 0o755, data: Buffer.alloc(1300, 7) },
  { type: 'file', path: '/app/empty', mode: 0o600, data: Buffer.alloc(0) },
  { type: 'directory', path: '/secret', mode: 0o700 },
  { type: 'file', path: `/${longDir}/x.txt`, mode: 0o644, data: Buffer.from('prefixed') },
  { type: 'file', path: `/${longName}`, mode: 0o640, data: Buffer.from('long') },
  { type: 'file', path: `/${deepName}`, mode: 0o644, data: Buffer.from('deep') },
  { type: 'file', path: '/app/ünïcödé-名前', mode: 0o644, data: Buffer.from('utf-8') },
  { type: 'symlink', path: '/app/link', target: 'main.py' },
  { type: 'symlink', path: '/app/far', target: `/${longName}` },
];

describe('packRootfs', () => {
  it('puts the index first, then the same members packTar writes', async () => {
    const tar = await packRootfs(entries, 1700000000);
    const [first, ...rest] = await tarEntries(tar);
    expect(first?.header).toMatchObject({ name: INDEX_NAME, type: 'file', mode: 0o444, uid: 0, gid: 0 });
    expect(first?.header.mtime?.getTime()).toBe(1700000000 * 1000);
    const body = await packTar(entries, 1700000000);
    expect(tar.subarray(tar.length - body.length).equals(body)).toBe(true);
    expect(rest.map((e) => e.header.name)).toEqual((await tarEntries(body)).map((e) => e.header.name));
  });

  it('records every member with its resolved name, link, mode, times and where its bytes are', async () => {
    const tar = await packRootfs(entries, 1700000000);
    const all = await tarEntries(tar);
    const records = decodeIndex(all[0]?.data ?? Buffer.alloc(0));
    const members = all.slice(1);
    expect(records).toHaveLength(members.length);
    const types: Record<string, string> = { file: '0', directory: '5', symlink: '2' };
    records.forEach((r, i) => {
      const { header, data } = members[i] ?? { header: { name: '' }, data: Buffer.alloc(0) };
      expect(r.name.toString()).toBe(header.name);
      expect(r.type).toBe(types[header.type ?? '']);
      expect(r.mode).toBe(header.mode);
      expect([r.uid, r.gid, r.mtime]).toEqual([0, 0, 1700000000]);
      expect(r.link.toString()).toBe(header.linkname ?? '');
      expect(r.size).toBe(r.type === '0' ? data.length : 0);
      if (r.type === '0') expect(tar.subarray(r.data, r.data + r.size).equals(data)).toBe(true);
      else expect(r.data).toBe(0);
    });
    const byName = new Map(records.map((r) => [r.name.toString(), r]));
    // The forms a long name takes in the tar, each resolved to the full name.
    expect(byName.get(`${longDir}/x.txt`)?.size).toBe(8);
    expect(byName.get(longName)?.mode).toBe(0o640);
    expect(byName.get(deepName)?.name.length).toBeGreaterThan(255);
    expect(byName.get('app/ünïcödé-名前')?.data).toBeGreaterThan(0);
    expect(byName.get('app/far')?.link.toString()).toBe(`/${longName}`);
    expect(byName.get('secret/')).toMatchObject({ type: '5', mode: 0o700 });
    expect(byName.get('app/run')?.mode).toBe(0o755);
    expect(byName.has(INDEX_NAME)).toBe(false);
  });

  it('is deterministic: the same entries in any order give the same bytes', async () => {
    const a = await packRootfs(entries, 42);
    expect((await packRootfs(entries, 42)).equals(a)).toBe(true);
    expect((await packRootfs([...entries].reverse(), 42)).equals(a)).toBe(true);
    expect((await packRootfs(entries, 43)).equals(a)).toBe(false);
  });

  it('indexes an empty tree and a tree whose index spans many blocks', async () => {
    const [empty] = await tarEntries(await packRootfs([], 0));
    expect(decodeIndex(empty?.data ?? Buffer.alloc(0))).toEqual([]);
    const many: TarEntry[] = Array.from({ length: 300 }, (_, i) => ({ type: 'file', path: `/f/${i}`, mode: 0o644, data: Buffer.from(`${i}`) }));
    const tar = await packRootfs(many, 0);
    const records = decodeIndex((await tarEntries(tar))[0]?.data ?? Buffer.alloc(0));
    expect(records).toHaveLength(301); // and f/
    for (const r of records.filter((x) => x.type === '0')) expect(tar.subarray(r.data, r.data + r.size).toString()).toBe(r.name.toString().slice(2));
  });

  it('refuses what it cannot index', async () => {
    const tooLong = `/${Array.from({ length: 50 }, () => 'x'.repeat(90)).join('/')}`;
    await expect(packRootfs([{ type: 'file', path: tooLong, mode: 0o644, data: Buffer.alloc(0) }], 0)).rejects.toThrow(/longer than 4095/);
    const fifo = Buffer.alloc(1024);
    fifo.write('a-fifo', 0);
    fifo.write('0000000', 124);
    fifo.write('6', 156);
    expect(() => tarMembers(fifo)).toThrow(/type "6"/);
  });
});
