/**
 * $NABLA_OUT/components.json (optional, toolchains/README.md): what the toolchain resolved
 * and put into the image that nabla-build cannot see in the files, e.g. the Node.js release
 * and the Debian packages whose libraries it copied. Each entry names itself by a purl.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CompileError } from '../util/errors.js';
import type { Component } from './types.js';

const schema = z
  .object({
    components: z.array(
      z
        .object({
          type: z.enum(['application', 'library', 'operating-system', 'data']),
          name: z.string().min(1),
          version: z.string().min(1).optional(),
          purl: z.string().regex(/^pkg:[a-z][a-z0-9.+-]*\/\S+$/, 'must be a package URL such as "pkg:deb/debian/libc6@2.36-9"'),
          license: z.string().min(1).optional(),
          description: z.string().optional(),
        })
        .strict(),
    ),
  })
  .strict();

export function readToolchainComponents(outDir: string, toolchain: string): Component[] {
  const file = path.join(outDir, 'components.json');
  if (!fs.existsSync(file)) return [];
  let parsed: z.SafeParseReturnType<unknown, z.infer<typeof schema>>;
  try {
    parsed = schema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    throw broken(toolchain, 'it is not JSON');
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw broken(toolchain, `field "${issue.path.join('.')}": ${issue.message}`);
  }
  return parsed.data.components.map((c) => ({ ref: c.purl, ...c }));
}

function broken(toolchain: string, why: string): CompileError {
  return new CompileError(`toolchain "${toolchain}" wrote a components.json nabla-build cannot read: ${why}`, {
    file: 'toolchains/README.md',
    hint: 'components.json is {"components": [{"type", "name", "version", "purl", "license"?, "description"?}]}',
  });
}
