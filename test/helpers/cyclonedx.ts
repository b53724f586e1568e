/**
 * CycloneDX 1.5's published JSON schema, offline: the copy @cyclonedx/cyclonedx-library
 * ships (res/schema, from CycloneDX/specification), with the SPDX license and JSF schemas
 * it refers to, compiled by ajv with the formats the schema names.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { repoRoot } from './cli.js';

// CommonJS plugins (the second has no types): loaded as such.
const require = createRequire(import.meta.url);
const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;
const addDraft2019Formats = require('ajv-formats-draft2019') as (ajv: Ajv) => Ajv;

const schemaDir = path.join(repoRoot, 'node_modules', '@cyclonedx', 'cyclonedx-library', 'res', 'schema');
let validate: ValidateFunction | undefined;

/** The schema's errors for a document, as "path: message" lines; [] when it is valid. */
export function cyclonedxErrors(document: unknown): string[] {
  if (!validate) {
    const read = (file: string) => JSON.parse(fs.readFileSync(path.join(schemaDir, file), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    addDraft2019Formats(ajv);
    // The bom schema refers to its neighbours by their file names.
    for (const file of ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json']) {
      ajv.addSchema({ ...read(file), $id: `http://cyclonedx.org/schema/${file}` });
    }
    validate = ajv.compile(read('bom-1.5.SNAPSHOT.schema.json'));
  }
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}`);
}
