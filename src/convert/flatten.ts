/**
 * An image's layers, bottom first, flattened into one file tree as a container runtime
 * would see it: a later layer replaces a path, `.wh.NAME` removes NAME (and what is below
 * it) from the layers under it, `.wh..wh..opq` empties its folder of them, a hard link
 * becomes a copy of its target. Devices and FIFOs are left out (the libOS has its own /dev),
 * and so is what no program of the image needs (SKIPPED below); owners are not kept (the
 * guest's files all belong to root, like a build's). Setuid/setgid bits and file
 * capabilities are recorded, then dropped: nothing in a unikernel changes privilege.
 */
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';

export type FsNode =
  | { type: 'file'; mode: number; data: Buffer }
  | { type: 'directory'; mode: number }
  | { type: 'symlink'; target: string };

export interface FlatImage {
  /** Path without a leading '/' ("usr/bin/python3") → node; "" is never a key. */
  nodes: Map<string, FsNode>;
  /** Files that had the setuid or setgid bit. */
  setuid: string[];
  /** Files that had file capabilities (security.capability), e.g. ping's cap_net_raw. */
  capabilities: string[];
  /** How many entries SKIPPED and the device/FIFO rule left out, and their bytes. */
  skipped: { entries: number; bytes: number };
}

/**
 * What never goes into the guest's file system: package managers' caches and indexes
 * (apt cannot run in a unikernel, and they are rebuilt by `apt-get update` anyway), the
 * documentation that only people read, and the mount points the runtime fills (/proc,
 * /sys, /dev: the libOS serves its own). The folders themselves stay.
 */
export const SKIPPED = [
  'var/cache/apt/',
  'var/lib/apt/lists/',
  'var/cache/debconf/',
  'var/log/',
  'usr/share/doc/',
  'usr/share/man/',
  'usr/share/info/',
  'usr/share/lintian/',
  'root/.cache/',
  'root/.npm/_cacache/',
  'proc/',
  'sys/',
  'dev/',
];

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

interface LayerEntry {
  path: string;
  type: string;
  mode: number;
  data?: Buffer;
  linkname?: string;
  capability: boolean;
}

export class LayerError extends Error {}

export async function flattenLayers(layers: readonly Buffer[]): Promise<FlatImage> {
  const image: FlatImage = { nodes: new Map(), setuid: [], capabilities: [], skipped: { entries: 0, bytes: 0 } };
  const setuid = new Set<string>();
  const capabilities = new Set<string>();
  for (const [index, layer] of layers.entries()) {
    let entries: LayerEntry[];
    try {
      entries = await readLayer(layer);
    } catch (error) {
      throw new LayerError(`layer ${index + 1} is not a readable tar: ${(error as Error).message}`);
    }
    // Whiteouts act on the layers below, so they go first, whatever their order in the tar.
    for (const entry of entries) {
      const name = basename(entry.path);
      if (name === OPAQUE) removeBelow(image.nodes, dirname(entry.path));
      else if (name.startsWith(WHITEOUT)) removeTree(image.nodes, join(dirname(entry.path), name.slice(WHITEOUT.length)));
    }
    for (const entry of entries) {
      if (basename(entry.path).startsWith(WHITEOUT)) continue;
      const node = toNode(entry, image.nodes);
      // A path replaced by a later layer loses what the earlier one recorded for it.
      setuid.delete(entry.path);
      capabilities.delete(entry.path);
      if (!node || isSkipped(entry.path)) {
        image.skipped.entries++;
        image.skipped.bytes += entry.data?.length ?? 0;
        image.nodes.delete(entry.path);
        continue;
      }
      // A file replacing a folder (or a link) takes its place and everything below it.
      const old = image.nodes.get(entry.path);
      if (old && old.type === 'directory' && node.type !== 'directory') removeTree(image.nodes, entry.path);
      image.nodes.set(entry.path, node);
      if (node.type === 'file' && entry.mode & 0o6000) setuid.add(entry.path);
      if (entry.capability) capabilities.add(entry.path);
    }
  }
  // A path below a file or a symlink (a layer that wrote bin/x where a lower one made bin a
  // link) never shows in a container either: the runtime followed the link when it wrote.
  for (const path of [...image.nodes.keys()]) {
    for (let parent = dirname(path); parent !== ''; parent = dirname(parent)) {
      const type = image.nodes.get(parent)?.type;
      if (type !== undefined && type !== 'directory') {
        image.nodes.delete(path);
        break;
      }
    }
  }
  // Folders a layer implies but does not list (tars need not) exist in a container: here too.
  for (const path of [...image.nodes.keys()]) {
    for (let parent = dirname(path); parent !== '' && !image.nodes.has(parent); parent = dirname(parent)) {
      image.nodes.set(parent, { type: 'directory', mode: 0o755 });
    }
  }
  for (const node of image.nodes.values()) if (node.type !== 'symlink') node.mode &= 0o1777;
  image.setuid = [...setuid].filter((path) => image.nodes.has(path)).sort();
  image.capabilities = [...capabilities].filter((path) => image.nodes.has(path)).sort();
  return image;
}

function toNode(entry: LayerEntry, nodes: Map<string, FsNode>): FsNode | undefined {
  switch (entry.type) {
    case 'file':
    case 'contiguous-file':
      return { type: 'file', mode: entry.mode, data: entry.data ?? Buffer.alloc(0) };
    case 'directory':
      return { type: 'directory', mode: entry.mode };
    case 'symlink':
      return { type: 'symlink', target: entry.linkname ?? '' };
    case 'link': {
      // Hard links name their target by its path in the image, already seen in this or a lower layer.
      const target = nodes.get(clean(entry.linkname ?? ''));
      if (target?.type !== 'file') throw new LayerError(`hard link ${entry.path} points at ${entry.linkname}, which is no file before it`);
      return { type: 'file', mode: entry.mode, data: target.data };
    }
    default:
      return undefined; // devices, FIFOs
  }
}

async function readLayer(layer: Buffer): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const unpack = extract();
  Readable.from([layer]).pipe(unpack);
  for await (const entry of unpack) {
    const { name, type, mode = 0o644, linkname, pax } = entry.header;
    const path = clean(name);
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (path === '') continue; // the root folder itself
    if (path.split('/').includes('..')) throw new LayerError(`unsafe path "${name}"`);
    const capability = typeof pax === 'object' && pax !== null && 'SCHILY.xattr.security.capability' in pax;
    entries.push({ path, type: type ?? 'file', mode, data: type === 'file' || type === 'contiguous-file' ? Buffer.concat(chunks) : undefined, linkname: linkname ?? undefined, capability });
  }
  return entries;
}

function isSkipped(path: string): boolean {
  return SKIPPED.some((prefix) => path.startsWith(prefix));
}

function removeTree(nodes: Map<string, FsNode>, path: string): void {
  nodes.delete(path);
  removeBelow(nodes, path);
}

function removeBelow(nodes: Map<string, FsNode>, dir: string): void {
  const prefix = dir === '' ? '' : `${dir}/`;
  for (const path of [...nodes.keys()]) if (path.startsWith(prefix) && path !== dir) nodes.delete(path);
}

/** "./usr//bin/" → "usr/bin". */
export function clean(path: string): string {
  return path
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
