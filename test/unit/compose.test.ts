/** The image laid out from a toolchain's output (run.json, nabla/, policy.txt) and the app's config. */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { composeImage } from '../../src/build/compose.js';
import { resolveBuildConfig } from '../../src/config/resolve.js';
import type { ImageSpec } from '../../src/image/types.js';
import { systemEntries, withoutGiven } from '../../src/rootfs/system.js';
import { CompileError } from '../../src/util/errors.js';
import type { TarEntry } from '../../src/util/tar.js';
import { tempDir, writeFiles } from '../helpers/cli.js';
import { testToolchains } from '../helpers/toolchains.js';
import { tarEntries } from '../helpers/tar.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function folder(files: Record<string, string>): string {
  const dir = tempDir();
  dirs.push(dir);
  return writeFiles(dir, files);
}

/** Composes an app (main.go + nabla.json) with what a toolchain wrote (run.json + nabla/ files,
 * and outFiles, e.g. its rootfs/), and the toolchain image's time zones (zoneinfoDir). */
function compose(
  run: unknown,
  nablaJson: object = {},
  nablaFiles = ['nabla-run', 'app.nabla', 'libos.nabla'],
  { outFiles = {}, zoneinfoDir, sharedRootfsDir }: { outFiles?: Record<string, string>; zoneinfoDir?: string; sharedRootfsDir?: string } = {},
) {
  const appDir = folder({ 'main.go': 'package main\n', 'nabla.json': JSON.stringify({ entry: 'app', ...nablaJson }) });
  const outDir = folder({
    'run.json': JSON.stringify(run),
    'policy.txt': 'write fd=1|2\nexit_group\n',
    ...Object.fromEntries(nablaFiles.map((file) => [`nabla/${file}`, file])),
    ...outFiles,
  });
  const config = resolveBuildConfig(appDir, {}, { cwd: appDir, env: {}, toolchains: testToolchains(folder({})) });
  return composeImage({ config, outDir, sharedRootfsDir, zoneinfoDir, appFiles: ['main.go'], toolchainImage: 'nabla/toolchain-go:x', sourceDigest: 'sha256:0', version: '0' });
}

interface RootfsEntry {
  type: string;
  mode: number;
  mtime: number;
  text: string; // a file's bytes, a link's target
}

/** The image's rootfs.tar, by path without the leading '/' (folders end in '/'). */
async function rootfsOf(image: ImageSpec): Promise<Map<string, RootfsEntry>> {
  const entry = image.entries.find((e) => e.path === '/nabla/rootfs.tar');
  if (entry?.type !== 'file') throw new Error('no /nabla/rootfs.tar');
  const out = new Map<string, RootfsEntry>();
  for (const { header, data } of await tarEntries(entry.data)) {
    const { name, type, mode = 0, mtime, linkname } = header;
    out.set(name, { type: type ?? '', mode, mtime: (mtime?.getTime() ?? -1) / 1000, text: linkname ?? data.toString() });
  }
  return out;
}

/** A stand-in for a toolchain image's /usr/share/zoneinfo, as Debian's tzdata lays it out. */
function zoneinfo(): string {
  const dir = folder({ 'Europe/Paris': 'TZif2 Paris', 'Etc/UTC': 'TZif2 UTC', 'right/Europe/Paris': 'TZif2 Paris with leap seconds', 'zone1970.tab': '#' });
  fs.mkdirSync(path.join(dir, 'posix'));
  fs.symlinkSync('../Europe', path.join(dir, 'posix/Europe'));
  fs.symlinkSync('/etc/localtime', path.join(dir, 'localtime'));
  return dir;
}

const cRun = { tender: '/nabla/nabla-run', unikernel: '/nabla/app.nabla' };
const cFiles = ['nabla-run', 'app.nabla'];

const goRun = {
  tender: '/nabla/nabla-run',
  unikernel: '/nabla/app.nabla',
  libos: '/nabla/libos.nabla',
  env: { GODEBUG: 'asyncpreemptoff=1', GOMAXPROCS: '1' },
};

describe('composeImage', () => {
  it('without "libos" the tender runs the unikernel alone (the C contract)', async () => {
    const image = await compose({ tender: '/nabla/nabla-run', unikernel: '/nabla/app.nabla' }, { args: ['x'] }, ['nabla-run', 'app.nabla']);
    expect(image.config.entrypoint).toEqual(['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '/nabla/app.nabla', 'x']);
    expect(image.config.env).toEqual([]);
  });

  it('"libos" goes to the tender as --libos= before the unikernel, and ships in /nabla/', async () => {
    const image = await compose(goRun, { args: ['--port', '8080'], memory: 512 });
    expect(image.config.entrypoint).toEqual([
      '/nabla/nabla-run',
      '--mem=512',
      '--disk=/nabla/rootfs.tar',
      '--libos=/nabla/libos.nabla',
      '/nabla/app.nabla',
      '--port',
      '8080',
    ]);
    expect(image.entries.map((e) => e.path)).toContain('/nabla/libos.nabla');
  });

  it('"interp", "execHeap" and "args" (Node): --interp= and --x-exec-heap before the unikernel, args before the app\'s', async () => {
    const nodeRun = {
      tender: '/nabla/nabla-run',
      unikernel: '/nabla/app.nabla',
      libos: '/nabla/libos.nabla',
      interp: '/nabla/ld.so',
      execHeap: true,
      args: ['/app/server.js'],
    };
    const image = await compose(nodeRun, { args: ['--port', '8080'] }, ['nabla-run', 'app.nabla', 'libos.nabla', 'ld.so']);
    expect(image.config.entrypoint).toEqual([
      '/nabla/nabla-run',
      '--mem=256',
      '--disk=/nabla/rootfs.tar',
      '--libos=/nabla/libos.nabla',
      '--interp=/nabla/ld.so',
      '--x-exec-heap',
      '/nabla/app.nabla',
      '/app/server.js',
      '--port',
      '8080',
    ]);
  });

  it('"heap": "flat" (C and Python): --heap=flat before the unikernel; "paged" or none: no flag', async () => {
    const files = ['nabla-run', 'app.nabla'];
    const flat = await compose({ tender: '/nabla/nabla-run', unikernel: '/nabla/app.nabla', heap: 'flat' }, {}, files);
    expect(flat.config.entrypoint).toEqual(['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '--heap=flat', '/nabla/app.nabla']);
    const paged = await compose({ tender: '/nabla/nabla-run', unikernel: '/nabla/app.nabla', heap: 'paged' }, {}, files);
    expect(paged.config.entrypoint).toEqual(['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '/nabla/app.nabla']);
  });

  it('an app with ports takes the container\'s network (--net-from=eth0); "network" says so either way', async () => {
    const c = { tender: '/nabla/nabla-run', unikernel: '/nabla/app.nabla' };
    const files = ['nabla-run', 'app.nabla'];
    const served = await compose(c, { ports: [8080] }, files);
    expect(served.config.entrypoint).toEqual(['/nabla/nabla-run', '--mem=256', '--disk=/nabla/rootfs.tar', '--net-from=eth0', '/nabla/app.nabla']);
    expect(served.config.exposedPorts).toEqual(['8080/tcp']);
    const client = await compose(c, { network: 'container' }, files);
    expect(client.config.entrypoint).toContain('--net-from=eth0');
    const quiet = await compose(c, { ports: [8080], network: 'none' }, files);
    expect(quiet.config.entrypoint).not.toContain('--net-from=eth0');
  });

  it('run.json "env" is in the image, and nabla.json env wins on a conflict', async () => {
    const image = await compose(goRun, { env: { GOMAXPROCS: '4', MODE: 'prod' } });
    expect(image.config.env).toEqual(['GODEBUG=asyncpreemptoff=1', 'GOMAXPROCS=4', 'MODE=prod']);
  });

  it.each([
    [{ ...goRun, libos: '/nabla/missing.nabla' }, 'run.json "libos" must name a file the toolchain wrote under /nabla/'],
    [{ ...goRun, libos: '/opt/nabla/lib/libos.nabla' }, 'run.json "libos" must name a file'],
    [{ ...goRun, libos: '/nabla/../nabla/libos.nabla' }, 'run.json "libos" must name a file'],
    [{ ...goRun, libos: 7 }, 'run.json "libos" must name a file'],
    [{ ...goRun, env: ['GODEBUG=x'] }, 'run.json "env" must be an object'],
    [{ ...goRun, env: { GODEBUG: 1 } }, 'run.json "env" must be an object'],
    [{ ...goRun, env: { 'BAD NAME': 'x' } }, 'run.json "env" must be an object'],
    [{ ...goRun, interp: '/lib64/ld-linux-x86-64.so.2' }, 'run.json "interp" must name a file the toolchain wrote under /nabla/'],
    [{ ...goRun, execHeap: 'yes' }, 'run.json "execHeap" must be true or false'],
    [{ ...goRun, heap: 'big' }, 'run.json "heap" must be "paged" or "flat"'],
    [{ ...goRun, heap: 'flat', execHeap: true }, 'run.json "heap": "flat" and "execHeap" do not go together'],
    [{ ...goRun, args: '/app/index.js' }, 'run.json "args" must be an array of strings'],
    [{ ...goRun, args: [1] }, 'run.json "args" must be an array of strings'],
  ])('a broken run.json %j is a CompileError naming the field', async (run, message) => {
    const error = await compose(run).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).message).toContain(message);
    expect((error as CompileError).hint).toMatch(/"libos", "interp", "execHeap", "heap", "args" and "env"/);
  });
});

describe('the rootfs every image gets', () => {
  it('has /etc/passwd, /etc/group, /etc/hosts, /etc/nsswitch.conf, /root and /tmp, all dated 1980-01-01', async () => {
    const rootfs = await rootfsOf(await compose(cRun, {}, cFiles));
    expect(rootfs.get('etc/passwd')?.text).toBe('root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    expect(rootfs.get('etc/group')?.text).toBe('root:x:0:\nnogroup:x:65534:\n');
    expect(rootfs.get('etc/hosts')?.text).toBe('127.0.0.1\tlocalhost\n');
    expect(rootfs.get('etc/nsswitch.conf')?.text).toMatch(/^hosts: +files dns$/m);
    expect(rootfs.get('etc/passwd')?.mode).toBe(0o644);
    expect(rootfs.get('root/')).toMatchObject({ type: 'directory', mode: 0o700 });
    expect(rootfs.get('tmp/')).toMatchObject({ type: 'directory', mode: 0o1777 });
    expect(rootfs.get('app/main.go')?.text).toBe('package main\n');
    // No time zones without the toolchain image's, and then no /etc/localtime pointing nowhere.
    expect([...rootfs.keys()].filter((name) => name.startsWith('usr/') || name === 'etc/localtime')).toEqual([]);
    expect(new Set([...rootfs.values()].map((e) => e.mtime))).toEqual(new Set([315532800]));
  });

  it('has Debian\'s time zones without right/, posix/ as links, and /etc/localtime at UTC', async () => {
    const rootfs = await rootfsOf(await compose(cRun, {}, cFiles, { zoneinfoDir: zoneinfo() }));
    expect(rootfs.get('usr/share/zoneinfo/Europe/Paris')).toMatchObject({ type: 'file', mode: 0o644, text: 'TZif2 Paris' });
    expect(rootfs.get('usr/share/zoneinfo/zone1970.tab')?.type).toBe('file');
    expect(rootfs.get('usr/share/zoneinfo/posix/Europe')).toMatchObject({ type: 'symlink', text: '../Europe' });
    expect(rootfs.get('usr/share/zoneinfo/localtime')).toMatchObject({ type: 'symlink', text: '/etc/localtime' });
    expect(rootfs.get('etc/localtime')).toMatchObject({ type: 'symlink', text: '/usr/share/zoneinfo/Etc/UTC' });
    expect([...rootfs.keys()].filter((name) => name.includes('right'))).toEqual([]);
  });

  it('the toolchain\'s own rootfs wins: its /etc/passwd and its time zones, not ours (no mix of two tzdata)', async () => {
    const outFiles = { 'rootfs/etc/passwd': 'app:x:1000:1000::/home/app:/bin/false\n', 'rootfs/usr/share/zoneinfo/UTC': 'their UTC' };
    const rootfs = await rootfsOf(await compose(cRun, {}, cFiles, { outFiles, zoneinfoDir: zoneinfo() }));
    expect(rootfs.get('etc/passwd')?.text).toBe('app:x:1000:1000::/home/app:/bin/false\n');
    expect(rootfs.get('usr/share/zoneinfo/UTC')?.text).toBe('their UTC');
    expect(rootfs.has('usr/share/zoneinfo/Europe/Paris')).toBe(false);
    expect(rootfs.get('etc/group')?.text).toBe('root:x:0:\nnogroup:x:65534:\n'); // what it left empty is filled
  });

  it('the shared runtime (rootfs-shared) goes beneath the compile\'s rootfs/: a path in both is rootfs/\'s', async () => {
    const sharedRootfsDir = folder({ 'usr/lib/std.py': 'std', 'usr/lib/site.py': 'shared site', 'etc/ssl/ca.pem': 'CA' });
    const outFiles = { 'rootfs/usr/lib/site.py': 'own site', 'rootfs/usr/lib/deps/dep.py': 'dep' };
    const rootfs = await rootfsOf(await compose(cRun, {}, cFiles, { outFiles, sharedRootfsDir }));
    expect(rootfs.get('usr/lib/std.py')?.text).toBe('std');
    expect(rootfs.get('etc/ssl/ca.pem')?.text).toBe('CA');
    expect(rootfs.get('usr/lib/site.py')?.text).toBe('own site');
    expect(rootfs.get('usr/lib/deps/dep.py')?.text).toBe('dep');
  });

  it('a default is left out where the toolchain has the path, a link or file above it, or files below it', () => {
    const file = (p: string): TarEntry => ({ type: 'file', path: p, mode: 0o644, data: Buffer.from('') });
    const paths = (given: TarEntry[]) => withoutGiven(systemEntries({ zoneinfo: true }), given).map((e) => e.path);
    expect(paths([])).toEqual(['/etc/passwd', '/etc/group', '/etc/hosts', '/etc/nsswitch.conf', '/etc/localtime', '/root', '/tmp']);
    expect(paths([{ type: 'symlink', path: '/etc', target: 'config' }])).toEqual(['/root', '/tmp']);
    expect(paths([file('etc/hosts/x'), file('/etc/group')])).toEqual(['/etc/passwd', '/etc/nsswitch.conf', '/etc/localtime', '/root', '/tmp']);
    // A folder keeps its mode over the toolchain's files in it.
    expect(withoutGiven(systemEntries({ zoneinfo: false }), [file('/tmp/x')]).find((e) => e.path === '/tmp')).toMatchObject({ mode: 0o1777 });
  });

  it('the same input gives the same rootfs bytes', async () => {
    const zones = zoneinfo();
    const a = await compose(cRun, {}, cFiles, { zoneinfoDir: zones });
    const b = await compose(cRun, {}, cFiles, { zoneinfoDir: zones });
    const bytes = (image: ImageSpec) => (image.entries.find((e) => e.path === '/nabla/rootfs.tar') as { data: Buffer }).data;
    expect(bytes(a).equals(bytes(b))).toBe(true);
  });
});
