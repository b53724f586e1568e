/**
 * The schema of nabla.json. Strict: an unknown or mistyped field is an error that names
 * the field and suggests the closest known one.
 */
import { z } from 'zod';
import { LANGUAGES } from '../detect/languages.js';

const port = z.union([
  z.number().int().min(1).max(65535),
  z
    .string()
    .regex(/^\d{1,5}(\/(tcp|udp))?$/, 'must look like 8080, "8080/tcp" or "53/udp"')
    .refine((p) => Number.parseInt(p, 10) >= 1 && Number.parseInt(p, 10) <= 65535, 'must be a port from 1 to 65535'),
]);

/** The guest memory the tender accepts (--mem; NABLA_MEM_MAX_MIB in native/include/nabla_abi.h), above our floor. */
const MEMORY_MIN_MIB = 16;
const MEMORY_MAX_MIB = 64 * 1024;
const MEMORY_RANGE = `must be from ${MEMORY_MIN_MIB} MiB to ${MEMORY_MAX_MIB} MiB (64G)`;
const memory = z.union([
  z.number().int().min(MEMORY_MIN_MIB, 'must be at least 16 (MiB)').max(MEMORY_MAX_MIB, MEMORY_RANGE),
  z
    .string()
    .regex(/^\d+\s*(M|Mi|MiB|MB|G|Gi|GiB|GB)?$/i, 'must be MiB as a number, or a size like "256M" or "1G"')
    .refine((m) => memoryMiB(m) >= MEMORY_MIN_MIB && memoryMiB(m) <= MEMORY_MAX_MIB, MEMORY_RANGE),
]);

/** MiB from a memory value the schema took: a number of MiB, or a size such as "256M" or "1G". */
export function memoryMiB(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  if (!match) return Number.NaN; // not a size: the schema's regex says so
  const amount = Number(match[1]);
  return match[2]!.toLowerCase().startsWith('g') ? amount * 1024 : amount;
}

/** Text that becomes argv, the environment or a path in the image: a C string, so no NUL. */
const cString = z.string().refine((s) => !s.includes('\u0000'), 'must not contain a NUL character');

export const nablaJsonSchema = z
  .object({
    $schema: z.string().optional(),
    /** The app's version and license (an SPDX expression): the image's annotations and SBOM; else package.json's. */
    version: z.string().min(1).max(128).regex(/^[^\s\u0000-\u001f]+$/, 'must be one word, e.g. "1.2.0"').optional(),
    license: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9.+:()-]+(?: +(?:AND|OR|WITH) +[A-Za-z0-9.+:()-]+)*$/, 'must be an SPDX license expression, e.g. "MIT" or "Apache-2.0 OR MIT"')
      .optional(),
    entry: z
      .string()
      .min(1)
      .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must be one line of printable text (no control characters)')
      .optional(),
    language: z.enum(LANGUAGES).optional(),
    toolchain: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a toolchain name such as "c" (see `nabla-build toolchain ls`)')
      .optional(),
    args: z.array(cString).optional(),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'names must be letters, digits and _'), cString)
      .optional(),
    workdir: cString.pipe(z.string().startsWith('/', 'must be an absolute path inside the image, e.g. "/app"')).optional(),
    ports: z.array(port).optional(),
    /** "container": the unikernel takes over the container's network (eth0); "none": no network. */
    network: z.enum(['container', 'none']).optional(),
    memory: memory.optional(),
    /** How the guest's heap is given memory: "flat" (the whole --mem usable from the start, no
     * host memory call; C and Python by default) or "paged" (made usable and given back by two
     * host calls, guard pages fault; Go and Node always). */
    heap: z.enum(['paged', 'flat']).optional(),
    /** false: no time zone data (/usr/share/zoneinfo) in the rootfs; the app runs in UTC. */
    zoneinfo: z.boolean({ invalid_type_error: 'must be true or false' }).optional(),
    /** Node apps: the Node.js major (the toolchain's; else engines.node picks) and node's own
     * options, put before the script (e.g. "--jitless", "--max-old-space-size=200"). */
    node: z
      .object({
        version: z.number({ invalid_type_error: 'must be a Node.js major version as a number, e.g. 22' }).int().positive().optional(),
        options: z
          .array(cString.pipe(z.string().regex(/^--?[A-Za-z]/, 'each must be a node option, starting with "-" (e.g. "--jitless")')))
          .optional(),
      })
      .strict()
      .optional(),
    files: z
      .object({
        include: z.array(z.string().min(1)).optional(),
        exclude: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type NablaJson = z.infer<typeof nablaJsonSchema>;

/** Every top-level field, for "did you mean" suggestions. */
export const NABLA_JSON_FIELDS = Object.keys(nablaJsonSchema.shape);
