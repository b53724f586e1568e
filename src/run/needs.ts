/**
 * What a nabla image needs from the runtime that runs it, read from the image itself: its
 * entrypoint says what the tender will do (--mem, --net-from), its config which ports the
 * app serves. `nabla-build run` and `nabla-build k8s` give exactly this and nothing more.
 */
import type { ImageRuntimeConfig } from '../engine/engine.js';
import { ConfigError } from '../util/errors.js';

export const TENDER = '/nabla/nabla-run';
/** The tap device the tender opens to give the unikernel the container's network. */
export const TUN_DEVICE = '/dev/net/tun';
/** The one capability the tender needs for the network (and drops before the app runs). */
export const NET_CAPABILITY = 'NET_ADMIN';
/**
 * Without a network the tender needs no privilege at all, so it runs as nobody. (With one it
 * must be root for NET_ADMIN to work; it drops every capability before the app starts.)
 */
export const NOBODY = 65534;

export interface ImageNeeds {
  /** The tender takes the container's network (--net-from): it needs NET_ADMIN and the tun device. */
  network: boolean;
  /** The guest memory the tender maps (--mem), MiB. */
  guestMiB: number;
  /** The smallest container memory limit under which the tender still gives the guest all of it. */
  containerMiB: number;
  /** Ports the app serves, "8080/tcp". */
  ports: string[];
}

export function imageNeeds(name: string, config: ImageRuntimeConfig): ImageNeeds {
  const entrypoint = config.Entrypoint ?? [];
  if (entrypoint[0] !== TENDER) {
    throw new ConfigError(`${name} is not a nabla image: its entrypoint is ${JSON.stringify(entrypoint)}, not the tender ${TENDER}`, {
      field: 'IMAGE',
      hint: 'build one with `nabla-build build DIR --load -t NAME`, or pass the app folder itself',
    });
  }
  // The tender's own flags come before the unikernel (the first argument not starting with --).
  const flags = entrypoint.slice(1, entrypoint.findIndex((arg, i) => i > 0 && !arg.startsWith('--')));
  const mem = flags.find((flag) => flag.startsWith('--mem='));
  const guestMiB = mem ? Number(mem.slice('--mem='.length)) : Number(config.Labels?.['dev.nabla.memory'] ?? 256);
  if (!Number.isInteger(guestMiB) || guestMiB <= 0) {
    throw new ConfigError(`${name}: the tender's --mem in its entrypoint is not a number of MiB (${mem})`, { field: 'IMAGE', hint: 'rebuild the image with nabla-build' });
  }
  return {
    network: flags.some((flag) => flag.startsWith('--net-from=')),
    guestMiB,
    containerMiB: containerMemoryMiB(guestMiB),
    ports: Object.keys(config.ExposedPorts ?? {}).sort(),
  };
}

/**
 * The tender fits the guest into the container's memory limit, keeping 16 MiB (and 1/32 of
 * the limit above 512 MiB) for itself and the kernel (native/tender/memlimit.c): this is the
 * smallest limit that leaves the guest all its --mem.
 */
export function containerMemoryMiB(guestMiB: number): number {
  const overhead = (limit: number) => 16 + (limit > 512 ? Math.floor((limit - 512) / 32) : 0);
  let limit = guestMiB;
  while (limit - overhead(limit) < guestMiB) limit++;
  return limit;
}
