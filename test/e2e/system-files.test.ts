/**
 * The files every Linux program expects, end to end: images of a Go, a C and a Python app
 * run under `docker run` and print what they find: users and groups (/etc/passwd,
 * /etc/group), localhost (/etc/hosts), Debian's time zones, their own executable
 * (/proc/self/exe, sys.executable), and app files dated 1980 (zip takes them). An image
 * built with "zoneinfo": false has no /usr/share/zoneinfo.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { nabla, repoRoot, tempDir, writeFiles } from '../helpers/cli.js';
import { LoadedImages, docker, runImage } from '../helpers/docker.js';

const work = tempDir('nabla-e2e-system-');
const images = new LoadedImages();
afterAll(async () => {
  fs.rmSync(work, { recursive: true, force: true });
  await images.removeAll();
});

const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);

/** The paths in an image's rootfs.tar (from a type=dir output). */
async function rootfsPaths(appDir: string): Promise<string[]> {
  const dest = path.join(work, `dir-${path.basename(appDir)}`);
  const build = await nabla(['build', appDir, '-o', `type=dir,dest=${dest}`]);
  expect(build.exitCode, build.stderr).toBe(0);
  const list = await execa('tar', ['-tf', path.join(dest, 'nabla', 'rootfs.tar')]);
  return list.stdout.split('\n');
}

describe('the files every Linux program expects', () => {
  it('Go: os/user finds root and nobody, time zones load, localhost resolves, os.Executable reads itself', async () => {
    await images.build(fixture('system-go'), 'nabla-e2e/system-go:1');
    const result = await runImage('nabla-e2e/system-go:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'user.Current: root uid=0 gid=0 home=/root',
      'user.LookupId(0): root home=/root',
      'user.Lookup(nobody): uid=65534 gid=65534',
      'user.LookupGroupId(0): root',
      'America/Los_Angeles: PST -28800, PDT -25200',
      'time.Local: UTC',
      'net.LookupHost(localhost): [127.0.0.1]',
      'os.Executable: /nabla/system.nabla ELF=true readable=true',
      '/usr/share/zoneinfo: present',
      '/usr/share/zoneinfo/right: missing',
      '/etc/passwd: mtime 1980-01-01T00:00:00Z',
      '/app/main.go: mtime 1980-01-01T00:00:00Z',
    ]);
    expect(result.exitCode).toBe(0);
    // TZ from the container's environment picks the zone, as on Linux.
    const paris = await docker('run', '--rm', '--network', 'none', '-e', 'TZ=Europe/Paris', 'nabla-e2e/system-go:1');
    expect(paris.stdout).toContain('time.Local: CET');
  });

  it('Go with "zoneinfo": false: no /usr/share/zoneinfo, LoadLocation says so, the rest is the same', async () => {
    const app = path.join(work, 'system-go-nozones');
    fs.cpSync(fixture('system-go'), app, { recursive: true });
    writeFiles(app, { 'nabla.json': JSON.stringify({ zoneinfo: false }) });
    await images.build(app, 'nabla-e2e/system-go-nozones:1');
    const result = await runImage('nabla-e2e/system-go-nozones:1');
    const lines = result.stdout.split('\n');
    expect(lines).toContain('America/Los_Angeles: unknown time zone America/Los_Angeles');
    expect(lines).toContain('/usr/share/zoneinfo: missing');
    expect(lines).toContain('user.LookupId(0): root home=/root');
    expect(result.exitCode).toBe(0);
    const paths = await rootfsPaths(app);
    expect(paths.filter((p) => p.startsWith('usr/share/zoneinfo') || p === 'etc/localtime')).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['etc/passwd', 'etc/group', 'etc/hosts', 'app/main.go']));
  });

  it('C: getpwuid(0), getgrgid(0), localhost, local time and /proc/self/exe', async () => {
    await images.build(fixture('system-c'), 'nabla-e2e/system-c:1');
    const result = await runImage('nabla-e2e/system-c:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'getpwuid(0): root uid=0 gid=0 home=/root shell=/usr/sbin/nologin',
      'getgrgid(0): root',
      'getpwnam(nobody): 65534',
      'getgrgid(65534): nogroup',
      'getaddrinfo(localhost): 127.0.0.1',
      'local: 22:13 UTC',
      '/proc/self/exe: /nabla/system.nabla ELF=1',
      '/etc/passwd mtime: 315532800',
    ]);
    expect(result.exitCode).toBe(0);
    // What Docker writes for this container (--hostname, --add-host, --dns) replaces the image's.
    const container = await docker('run', '--rm', '--network', 'none', '--hostname', 'web-1', '--add-host', 'db:10.1.2.3',
      '--dns', '10.9.9.9', 'nabla-e2e/system-c:1', 'container');
    expect(container.stderr).toBe('');
    expect(container.stdout.split('\n')).toEqual([
      'uname: web-1 gethostname: web-1',
      'getaddrinfo(db): 10.1.2.3',
      'resolv.conf: nameserver 10.9.9.9',
      '/etc/hosts has IPv6 lines: 0',
    ]);
    const paths = await rootfsPaths(fixture('system-c'));
    expect(paths).toEqual(expect.arrayContaining(['usr/share/zoneinfo/Europe/Paris', 'usr/share/zoneinfo/posix/', 'etc/localtime', 'root/', 'tmp/']));
    expect(paths.some((p) => p.startsWith('usr/share/zoneinfo/right'))).toBe(false);
  });

  it('Python: zipfile zips the app\'s files, zoneinfo, pwd, ~root, platform.libc_ver() and sys.executable', async () => {
    await images.build(fixture('system-python'), 'nabla-e2e/system-python:1');
    const result = await runImage('nabla-e2e/system-python:1');
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'sys.executable: /nabla/python.nabla True',
      "platform.libc_ver: ('', '')",
      'pwd.getpwuid(0): root 0 /root /usr/sbin/nologin',
      'grp.getgrgid(0): root',
      'expanduser: /root True / /', // HOME=/ from Docker; ~root from /etc/passwd
      'Europe/Paris: Europe/Paris 2024-01-15T13:00:00+01:00 2024-07-15T14:00:00+02:00',
      "zip: [('main.py', (1980, 1, 1, 0, 0, 0))]",
    ]);
    expect(result.exitCode).toBe(0);
  });
});
