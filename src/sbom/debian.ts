/**
 * What the toolchain image's Debian says about itself: /var/lib/dpkg/status (every
 * installed package with its version) and /usr/lib/os-release (which release; /etc/os-release links to it), copied out of
 * the image by the executor. nabla-build names from it the Debian parts it puts in every
 * image itself: the time zones (tzdata) and the musl the tender and libOS are built with.
 */
import { purl } from './purl.js';

export interface DebianPackage {
  name: string;
  version: string;
  architecture: string;
  /** The source package (Source:) and its version, which is the binary's unless Source: says. */
  source: string;
  sourceVersion: string;
}

export interface Debian {
  /** "debian-12", the purl's distro qualifier. */
  distro?: string;
  packages: Map<string, DebianPackage>;
}

export function readDebian(status: string | undefined, osRelease: string | undefined): Debian | undefined {
  if (status === undefined) return undefined;
  const packages = new Map<string, DebianPackage>();
  for (const stanza of status.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}: *(.*)$`, 'mi').exec(stanza)?.[1]?.trim();
    const name = field('Package');
    const version = field('Version');
    if (!name || !version || !/\binstalled$/.test(field('Status') ?? '')) continue;
    const source = /^(\S+)(?: \((.+)\))?$/.exec(field('Source') ?? '');
    packages.set(name, {
      name,
      version,
      architecture: field('Architecture') ?? 'all',
      source: source?.[1] ?? name,
      sourceVersion: source?.[2] ?? version,
    });
  }
  const release = (key: string) => new RegExp(`^${key}="?([^"\\n]*)"?$`, 'm').exec(osRelease ?? '')?.[1];
  const id = release('ID');
  const versionId = release('VERSION_ID');
  return { distro: id && versionId ? `${id}-${versionId}` : undefined, packages };
}

/** pkg:deb/debian/NAME@VERSION?arch=…&distro=… of an installed package. */
export function debianPurl(debian: Debian, pkg: DebianPackage): string {
  return purl('deb', `debian/${pkg.name}`, pkg.version, { arch: pkg.architecture, distro: debian.distro });
}

/** The source package an installed binary package was built from, as a purl (arch=source). */
export function debianSourcePurl(debian: Debian, pkg: DebianPackage): string {
  return purl('deb', `debian/${pkg.source}`, pkg.sourceVersion, { arch: 'source', distro: debian.distro });
}
