/**
 * The files every Linux program expects to find, for every image's rootfs whatever its
 * language: the users and groups of a minimal Debian (root and nobody), /etc/hosts with
 * localhost, the name-service order glibc and Go read, an empty /tmp, root's home and,
 * unless nabla.json says "zoneinfo": false, Debian's time zones. They fill only what the
 * toolchain's own rootfs leaves empty: a toolchain (or, later, a converted image) that
 * brings /etc/passwd keeps its own. The app's files cannot collide with them: they all go
 * under /app.
 */
import type { TarEntry } from '../util/tar.js';
import { fileEntries, selectFiles } from './tree.js';

export const ZONEINFO_IN_IMAGE = '/usr/share/zoneinfo';

/** Debian's base-passwd entries for root and nobody. There is no shell in a unikernel (no
 * exec): both get nologin, as Debian's system accounts do. */
const PASSWD = `root:x:0:0:root:/root:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
nogroup:x:65534:
`;
/** IPv4 only: the unikernel has no IPv6 (socket(AF_INET6) is EAFNOSUPPORT), and a ::1 line
 * would send resolvers that take the first address (Node's listen('localhost')) there. */
const HOSTS = `127.0.0.1	localhost
`;
/** Files first, then DNS, as Debian has it (glibc's default without this file is DNS first). */
const NSSWITCH = `passwd:         files
group:          files
shadow:         files
hosts:          files dns
networks:       files
protocols:      files
services:       files
`;

const text = (path: string, content: string): TarEntry => ({ type: 'file', path, mode: 0o644, data: Buffer.from(content) });

/** The /etc files, /root, /tmp and, when zoneinfo is on, /etc/localtime (UTC, as Debian's). */
export function systemEntries(options: { zoneinfo: boolean }): TarEntry[] {
  return [
    text('/etc/passwd', PASSWD),
    text('/etc/group', GROUP),
    text('/etc/hosts', HOSTS),
    text('/etc/nsswitch.conf', NSSWITCH),
    ...(options.zoneinfo ? [{ type: 'symlink' as const, path: '/etc/localtime', target: `${ZONEINFO_IN_IMAGE}/Etc/UTC` }] : []),
    { type: 'directory', path: '/root', mode: 0o700 },
    { type: 'directory', path: '/tmp', mode: 0o1777 },
  ];
}

/**
 * Debian's tzdata, from a copy of a toolchain image's /usr/share/zoneinfo, without right/:
 * the same zones counting leap seconds (TZ=right/...), which neither Go nor Python reads
 * unless asked, and half the bytes. posix/ is links only and stays.
 */
export function zoneinfoEntries(dir: string): TarEntry[] {
  return fileEntries(dir, selectFiles(dir, { include: ['**'], exclude: ['right'] }), ZONEINFO_IN_IMAGE);
}

/**
 * `defaults` without what `given` already has: a path given, a path below one given as a
 * file or symlink, or a file or symlink that `given` has things below (a folder keeps its
 * mode over what `given` puts in it). Defaults under a folder that `given` fills (`groups`, e.g. the time
 * zones) go as a whole, so two tzdata versions never mix.
 */
export function withoutGiven(defaults: readonly TarEntry[], given: readonly TarEntry[], groups: readonly string[] = []): TarEntry[] {
  const givenTypes = new Map(given.map((entry) => [clean(entry.path), entry.type]));
  const givenPaths = [...givenTypes.keys()];
  const filled = groups.map(clean).filter((group) => givenPaths.some((p) => p === group || p.startsWith(`${group}/`)));
  return defaults.filter((entry) => {
    const path = clean(entry.path);
    if (givenTypes.has(path)) return false;
    if (entry.type !== 'directory' && givenPaths.some((p) => p.startsWith(`${path}/`))) return false;
    if (filled.some((group) => path === group || path.startsWith(`${group}/`))) return false;
    for (let parent = dirname(path); parent !== ''; parent = dirname(parent)) {
      const type = givenTypes.get(parent);
      if (type !== undefined && type !== 'directory') return false;
    }
    return true;
  });
}

function clean(path: string): string {
  return path.split('/').filter((part) => part !== '' && part !== '.').join('/');
}

function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
