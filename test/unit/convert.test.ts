/**
 * The parts of `convert` that read someone else's image, on inputs made here: the ELF
 * reader (headers, loader, DT_NEEDED, RUNPATH, imported symbols; broken files as
 * ElfError), the layer flattener (whiteouts, opaque folders, hard links, devices, what is
 * left out, setuid and capabilities), the analysis (which program, what will not work,
 * the fix it suggests) and the flags.
 */
import { pack, type Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { resolveConvertConfig, type ConvertFlags } from '../../src/config/convert.js';
import { analyze, type RunSettings } from '../../src/convert/analyze.js';
import { ElfError, readElf } from '../../src/convert/elf.js';
import { flattenLayers, type FlatImage, type FsNode } from '../../src/convert/flatten.js';
import { resolvePath, which } from '../../src/convert/guestfs.js';
import { ConfigError } from '../../src/util/errors.js';
import { makeElf } from '../helpers/elf.js';

type Entry = Partial<Header> & { name: string; data?: string | Buffer };

async function layer(entries: Entry[]): Promise<Buffer> {
  const tar = pack();
  for (const { data, ...header } of entries) tar.entry({ type: 'file', mode: 0o644, ...header }, typeof data === 'string' ? Buffer.from(data) : (data ?? Buffer.alloc(0)));
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const text = (image: FlatImage, path: string) => {
  const node = image.nodes.get(path);
  return node?.type === 'file' ? node.data.toString() : node?.type;
};

describe('convert: the ELF reader', () => {
  it('reads class, machine, type, the loader, DT_NEEDED, RUNPATH and the dynamic symbols', () => {
    const info = readElf(makeElf({ interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libm.so.6', 'libc.so.6'], runpath: '$ORIGIN/../lib:/opt/lib', imports: ['fork', 'printf'], exports: ['main'] }));
    expect(info).toEqual({
      bits: 64,
      machine: 62,
      type: 'exec',
      pie: false,
      interp: '/lib64/ld-linux-x86-64.so.2',
      needed: ['libm.so.6', 'libc.so.6'],
      runpath: ['$ORIGIN/../lib', '/opt/lib'],
      imports: ['fork', 'printf'],
      exports: ['main'],
    });
    expect(readElf(makeElf({ type: 3 })).type).toBe('dyn');
    // A PIE: DF_1_PIE, or a loader where the linker wrote no DT_FLAGS_1 (libc.so.6, which runs);
    // not a library with DT_FLAGS_1 without the PIE bit, nor one with neither.
    expect(readElf(makeElf({ type: 3, interp: '/lib64/ld-linux-x86-64.so.2', flags1: 0x08000001 })).pie).toBe(true);
    expect(readElf(makeElf({ type: 3, flags1: 0x08000000 })).pie).toBe(true);
    expect(readElf(makeElf({ type: 3, interp: '/lib64/ld-linux-x86-64.so.2' })).pie).toBe(true);
    expect(readElf(makeElf({ type: 3, interp: '/lib64/ld-linux-x86-64.so.2', flags1: 0x1 })).pie).toBe(false);
    expect(readElf(makeElf({ type: 3 })).pie).toBe(false);
    expect(readElf(makeElf({ type: 2, flags1: 0x08000000 })).pie).toBe(false);
    expect(readElf(makeElf({ machine: 183 })).machine).toBe(183);
    expect(readElf(makeElf({ bits: 32 })).bits).toBe(32);
  });

  it('a broken file is an ElfError, never a read past its end', () => {
    const good = makeElf({ interp: '/lib64/ld.so', needed: ['libc.so.6'], imports: ['fork'] });
    expect(() => readElf(Buffer.from('not elf'))).toThrow(ElfError);
    expect(() => readElf(good.subarray(0, 40))).toThrow(ElfError);
    expect(() => readElf(good.subarray(0, 200))).toThrow(ElfError);
    const farPhoff = Buffer.from(good);
    farPhoff.writeBigUInt64LE(0xffffffffffffn, 32);
    expect(() => readElf(farPhoff)).toThrow(ElfError);
    const unterminated = makeElf({ interp: '/lib64/ld.so' });
    unterminated[64 + 3 * 56 - 1 + 1 + '/lib64/ld.so'.length] = 0x41; // the interp's NUL
    expect(() => readElf(unterminated)).toThrow(ElfError);
  });

  it('reads every byte of a field, little-endian; a 64-bit value of 2^53 or more is refused as too large', () => {
    const elf = makeElf();
    elf.writeUInt16LE(0xabcd, 18); // e_machine: both bytes
    expect(readElf(elf).machine).toBe(0xabcd);
    const phoff = (value: bigint) => {
      const bytes = Buffer.from(elf);
      bytes.writeBigUInt64LE(value, 32);
      return () => readElf(bytes);
    };
    expect(phoff(2n ** 53n - 1n)).toThrow('reads past the end of the file (offset 9007199254740991, 4 bytes)');
    expect(phoff(2n ** 53n)).toThrow('value at 32 is too large');
    expect(phoff(2n ** 64n - 1n)).toThrow('value at 32 is too large');
    expect(phoff(0x0100000000n)).toThrow('reads past the end of the file (offset 4294967296, 4 bytes)');
  });
});

describe('convert: flattening layers', () => {
  it('later layers win; whiteouts, opaque folders and hard links act as a runtime does; devices and caches stay out', async () => {
    const bottom = await layer([
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc/keep', data: 'old' },
      { name: 'etc/gone', data: 'x' },
      { name: 'opt/app/a', data: 'a' },
      { name: 'opt/app/sub/b', data: 'b' },
      { name: 'usr/bin/tool', data: 'tool', mode: 0o4755 },
      { name: 'usr/bin/ping', data: 'ping', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': 'x' } },
      { name: 'var/cache/apt/pkgcache.bin', data: 'cache' },
      { name: 'var/lib/apt/lists/x_Packages', data: 'list' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
      { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
    ]);
    const top = await layer([
      { name: 'etc/keep', data: 'new' },
      { name: 'etc/.wh.gone' },
      { name: 'opt/app/.wh..wh..opq' },
      { name: 'opt/app/c', data: 'c' },
      { name: 'usr/bin/tool2', type: 'link', linkname: 'usr/bin/tool' },
      { name: 'bin/hidden', data: 'below a link' },
    ]);
    const image = await flattenLayers([bottom, top]);
    expect(text(image, 'etc/keep')).toBe('new');
    expect(image.nodes.has('etc/gone')).toBe(false);
    expect([...image.nodes.keys()].filter((p) => p.startsWith('opt/app/'))).toEqual(['opt/app/c']);
    expect(text(image, 'usr/bin/tool2')).toBe('tool');
    expect(image.nodes.has('var/cache/apt/pkgcache.bin')).toBe(false);
    expect(image.nodes.has('var/lib/apt/lists/x_Packages')).toBe(false);
    expect(image.nodes.has('dev/null')).toBe(false);
    expect(image.nodes.has('bin/hidden')).toBe(false);
    expect(image.setuid).toEqual(['usr/bin/tool']);
    expect(image.capabilities).toEqual(['usr/bin/ping']);
    expect((image.nodes.get('usr/bin/tool') as { mode: number }).mode).toBe(0o755);
    expect(image.skipped.entries).toBe(3);
  });

  it('a hard link to nothing before it, or a path with .., is refused', async () => {
    await expect(flattenLayers([await layer([{ name: 'a', type: 'link', linkname: 'nowhere' }])])).rejects.toThrow(/hard link a points at nowhere/);
    await expect(flattenLayers([await layer([{ name: 'a/../../etc/x', data: 'x' }])])).rejects.toThrow(/unsafe path/);
    await expect(flattenLayers([Buffer.from('garbage that is no tar')])).rejects.toThrow(/layer 1 is not a readable tar/);
  });
});

describe('convert: finding programs in the image', () => {
  const nodes = new Map<string, FsNode>([
    ['usr', { type: 'directory', mode: 0o755 }],
    ['usr/bin', { type: 'directory', mode: 0o755 }],
    ['usr/bin/python3.11', { type: 'file', mode: 0o755, data: Buffer.from('x') }],
    ['usr/bin/python3', { type: 'symlink', target: 'python3.11' }],
    ['bin', { type: 'symlink', target: 'usr/bin' }],
    ['loop', { type: 'symlink', target: '/loop' }],
    ['up', { type: 'symlink', target: '../../../usr/bin/python3' }],
    ['etc', { type: 'directory', mode: 0o755 }],
    ['etc/data', { type: 'file', mode: 0o644, data: Buffer.from('d') }],
  ]);

  it('follows symlinks inside the image, .. stops at its root, loops end', () => {
    expect(resolvePath(nodes, '/bin/python3')?.path).toBe('usr/bin/python3.11');
    expect(resolvePath(nodes, '/up')?.path).toBe('usr/bin/python3.11');
    expect(resolvePath(nodes, '/loop')).toBeUndefined();
    expect(resolvePath(nodes, '/etc/data/x')).toBeUndefined();
    expect(which(nodes, 'python3', '/nowhere:/bin', '/')?.path).toBe('usr/bin/python3.11');
    expect(which(nodes, 'data', '/etc', '/')).toBeUndefined(); // not executable
    expect(which(nodes, './python3', '', '/usr/bin')?.path).toBe('usr/bin/python3.11');
  });
});

describe('convert: what will run', () => {
  const libc = makeElf({ type: 3, exports: ['fork', 'dlopen'] });
  const withFolders = (entries: [string, FsNode][]) => {
    const nodes = new Map(entries);
    for (const path of [...nodes.keys()]) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) if (!nodes.has(parts.slice(0, i).join('/'))) nodes.set(parts.slice(0, i).join('/'), { type: 'directory', mode: 0o755 });
    }
    return nodes;
  };
  const image = (program: Buffer, extra: [string, FsNode][] = []): FlatImage => ({
    nodes: withFolders([
      ['usr/bin/app', { type: 'file', mode: 0o755, data: program }],
      ['lib64/ld-linux-x86-64.so.2', { type: 'file', mode: 0o755, data: makeElf({ type: 3 }) }],
      ['lib/x86_64-linux-gnu/libc.so.6', { type: 'file', mode: 0o644, data: libc }],
      ...extra,
    ]),
    setuid: [],
    capabilities: [],
    skipped: { entries: 0, bytes: 0 },
  });
  const run = (over: Partial<RunSettings> = {}): RunSettings => ({ entrypoint: [], cmd: ['app'], env: ['PATH=/usr/bin'], workingDir: '/', network: false, ...over });
  const dynamic = (over: Parameters<typeof makeElf>[0] = {}) => makeElf({ interp: '/lib64/ld-linux-x86-64.so.2', needed: ['libc.so.6'], ...over });

  it('a fixed-address program with its loader and libraries runs; spawning and dlopen are reported', () => {
    const a = analyze(image(dynamic({ imports: ['fork', 'dlopen', 'io_uring_setup'] })), run());
    expect(a.ok).toBe(true);
    expect(a.program?.libraries).toEqual(['libc.so.6']);
    expect([...a.runnable]).toEqual([['usr/bin/app', 'lib64/ld-linux-x86-64.so.2']]);
    expect(a.findings.map((f) => `${f.level}: ${f.message.slice(0, f.message.indexOf(')') + 1)}`)).toEqual([
      'warning: may start other programs: /usr/bin/app (fork)',
      'warning: uses io_uring: /usr/bin/app (io_uring_setup)',
      'note: loads shared objects at run time: /usr/bin/app (dlopen)',
    ]);
  });

  it('a PIE with its loader runs, as a static-pie does; both are kept to run', () => {
    const pie = analyze(image(dynamic({ type: 3, flags1: 0x08000001 })), run());
    expect(pie.ok, JSON.stringify(pie.findings)).toBe(true);
    expect([...pie.runnable]).toEqual([['usr/bin/app', 'lib64/ld-linux-x86-64.so.2']]);
    const staticPie = analyze(image(makeElf({ type: 3, flags1: 0x08000000 })), run());
    expect(staticPie.ok, JSON.stringify(staticPie.findings)).toBe(true);
    expect([...staticPie.runnable]).toEqual([['usr/bin/app', '']]);
  });

  it('refuses what cannot run, each with its reason', () => {
    const reason = (program: Buffer, settings = run(), extra: [string, FsNode][] = []) => {
      const a = analyze(image(program, extra), settings);
      expect(a.ok).toBe(false);
      return a.findings.filter((f) => f.level === 'cannot').map((f) => f.message)[0];
    };
    expect(reason(makeElf({ type: 3, needed: ['libc.so.6'], flags1: 0x1 }))).toContain('is a shared library (ET_DYN, neither the PIE flag nor a loader)');
    expect(reason(makeElf({ bits: 32 }))).toContain('32-bit program');
    expect(reason(makeElf({ machine: 183 }))).toContain('another architecture (ELF machine 183)');
    expect(reason(dynamic({ needed: ['libmissing.so.1'] }))).toContain('the library libmissing.so.1 is not in the image');
    expect(reason(makeElf({ interp: '/lib/ld-musl-x86_64.so.1' }))).toContain('asks for the loader /lib/ld-musl-x86_64.so.1');
    expect(reason(dynamic(), run({ cmd: [] }))).toContain('names no program');
    expect(reason(dynamic(), run({ cmd: ['nope'] }))).toContain('nope: not found in PATH (/usr/bin)');
    const script = Buffer.from('#!/bin/sh\nset -e\nexec gunicorn app:app "$@"\n');
    expect(reason(script, run({ cmd: ['/entry.sh', '--workers', '2'] }), [['entry.sh', { type: 'file', mode: 0o755, data: script }]])).toContain(
      `convert with --entrypoint '["gunicorn","app:app","--workers","2"]'`,
    );
    const py = Buffer.from('#!/usr/bin/env python3\nprint(1)\n');
    expect(reason(py, run({ cmd: ['/tool.py'] }), [['tool.py', { type: 'file', mode: 0o755, data: py }]])).toContain(
      `is a script for python3: the tender runs ELF programs, not #! lines; convert with --entrypoint '["python3","/tool.py"]'`,
    );
    const sh = makeElf({ type: 3 });
    expect(reason(sh, run({ cmd: ['sh', '-c', 'exec python3 -m http.server'] }), [['usr/bin/sh', { type: 'file', mode: 0o755, data: sh }]])).toContain(
      `is a shell: it runs commands by starting other programs (fork/exec), which a unikernel cannot do; convert with --entrypoint '["python3","-m","http.server"]'`,
    );
  });

  it('warns about setuid and capabilities on the program, and a non-root user with a network', () => {
    const flat = image(dynamic());
    flat.setuid = ['usr/bin/app'];
    flat.capabilities = ['usr/bin/app'];
    const a = analyze(flat, run({ user: '1000', network: true }));
    expect(a.ok).toBe(true);
    expect(a.findings.map((f) => f.message).join('\n')).toMatch(/setuid\/setgid: the bit is dropped[\s\S]*file capabilities[\s\S]*user "1000"/);
  });
});

describe('convert: flags', () => {
  const resolve = (flags: Parameters<typeof resolveConvertConfig>[1]) => resolveConvertConfig('some/image:1', flags, { cwd: '/nonexistent', env: {} });

  it('reads --entrypoint as JSON or one program, --mem, --ports; --check writes nothing', () => {
    const config = resolve({ entrypoint: '["python3","-m","http.server"]', mem: '1G', ports: ['8000,53/udp'], tag: ['a:1'], load: true });
    expect(config.entrypoint).toEqual(['python3', '-m', 'http.server']);
    expect(config.memoryMiB).toBe(1024);
    expect(config.ports).toEqual(['8000/tcp', '53/udp']);
    expect(config.source).toEqual({ kind: 'engine', name: 'some/image:1' });
    expect(config.outputs).toEqual([{ type: 'load' }]);
    expect(resolve({ entrypoint: 'node' }).entrypoint).toEqual(['node']);
    expect(resolve({ check: true, load: true }).outputs).toEqual([]);
  });

  it('the image: docker://NAME is always the registry\'s; a name with a registry host comes from there when Docker lacks it', () => {
    const source = (image: string) => resolveConvertConfig(image, {}, { cwd: '/nonexistent', env: {} }).source;
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(source('docker://127.0.0.1:5000/team/app:1.0')).toEqual({ kind: 'registry', name: '127.0.0.1:5000/team/app:1.0', registry: '127.0.0.1:5000', repository: 'team/app', reference: '1.0' });
    expect(source(`docker://registry.example/app@${digest}`)).toMatchObject({ registry: 'registry.example', repository: 'app', reference: digest });
    expect(source('docker://python:3.11')).toMatchObject({ kind: 'registry', registry: 'docker.io', repository: 'library/python', reference: '3.11' });
    expect(source('localhost:5000/app')).toEqual({ kind: 'engine', name: 'localhost:5000/app', registry: { registry: 'localhost:5000', repository: 'app', reference: 'latest' } });
    expect(source('team/app:1')).toEqual({ kind: 'engine', name: 'team/app:1' });
    for (const bad of ['docker://', 'docker://127.0.0.1:5000/Team/app', 'docker://host.example/app@sha256:12']) {
      let error: unknown;
      try {
        source(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe('IMAGE');
    }
  });

  it('bad flags: one message naming the flag', () => {
    const cases: [ConvertFlags, string][] = [
      [{ entrypoint: '["a",' }, '--entrypoint'],
      [{ entrypoint: '[]' }, '--entrypoint'],
      [{ entrypoint: '--x' }, '--entrypoint'],
      [{ mem: '2' }, '--mem'],
      [{ mem: 'lots' }, '--mem'],
      [{ ports: ['99999'] }, '--ports'],
      [{ load: true }, '--tag'],
    ];
    for (const [flags, field] of cases) {
      let error: unknown;
      try {
        resolve(flags);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(flags)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
  });
});
