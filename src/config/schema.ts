/**
 * The schema of nabla.json. Strict: an unknown or mistyped field is an error that names
 * the field and suggests the closest known one.
 */
import { z } from 'zod';
import { LANGUAGES } from '../detect/languages.js';

const port = z.union([
  z.number().int().min(1).max(65535),
  z.string().regex(/^\d{1,5}(\/(tcp|udp))?$/, 'must look like 8080, "8080/tcp" or "53/udp"'),
]);

const memory = z.union([
  z.number().int().min(16, 'must be at least 16 (MiB)'),
  z.string().regex(/^\d+\s*(M|Mi|MiB|MB|G|Gi|GiB|GB)?$/i, 'must be MiB as a number, or a size like "256M" or "1G"'),
]);

export const nablaJsonSchema = z
  .object({
    $schema: z.string().optional(),
    entry: z.string().min(1).optional(),
    language: z.enum(LANGUAGES).optional(),
    toolchain: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a toolchain name such as "c" (see `nabla-build toolchain ls`)')
      .optional(),
    args: z.array(z.string()).optional(),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'names must be letters, digits and _'), z.string())
      .optional(),
    workdir: z.string().startsWith('/', 'must be an absolute path inside the image, e.g. "/app"').optional(),
    ports: z.array(port).optional(),
    /** "container": the unikernel takes over the container's network (eth0); "none": no network. */
    network: z.enum(['container', 'none']).optional(),
    memory: memory.optional(),
    /** false: no time zone data (/usr/share/zoneinfo) in the rootfs; the app runs in UTC. */
    zoneinfo: z.boolean({ invalid_type_error: 'must be true or false' }).optional(),
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
