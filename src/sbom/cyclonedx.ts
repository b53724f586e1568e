/**
 * An Inventory as a CycloneDX 1.5 JSON document. The same inventory gives the same bytes:
 * keys in a fixed order, components and dependencies sorted by bom-ref, the timestamp from
 * SOURCE_DATE_EPOCH and the serial number derived from the image digest (a UUID in the
 * name-based form), never the clock or a random source.
 */
import crypto from 'node:crypto';
import type { Inventory } from './collect.js';
import type { Component } from './types.js';

export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
export const CYCLONEDX_SCHEMA = 'http://cyclonedx.org/schema/bom-1.5.schema.json';

export function cyclonedx(inventory: Inventory, tool: { name: string; version: string }, created: string): Buffer {
  const byRef = (a: Component, b: Component) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);
  const components = [...inventory.components].sort(byRef);
  const all = [inventory.image, ...components];
  const document = {
    $schema: CYCLONEDX_SCHEMA,
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${nameBasedUuid(inventory.image.purl ?? inventory.image.ref)}`,
    version: 1,
    metadata: {
      timestamp: created,
      tools: { components: [{ type: 'application', name: tool.name, version: tool.version }] },
      component: component(inventory.image),
    },
    components: components.map(component),
    dependencies: all
      .filter((c) => c.dependsOn !== undefined)
      .sort(byRef)
      .map((c) => ({ ref: c.ref, dependsOn: [...new Set(c.dependsOn)].sort() })),
  };
  return Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
}

function component(c: Component): Record<string, unknown> {
  const properties = Object.entries(c.properties ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const hashes = Object.entries(c.hashes ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    type: c.type,
    'bom-ref': c.ref,
    name: c.name,
    ...(c.version !== undefined ? { version: c.version } : {}),
    ...(c.description !== undefined ? { description: c.description } : {}),
    ...(c.scope !== undefined ? { scope: c.scope } : {}),
    ...(hashes.length > 0 ? { hashes: hashes.map(([alg, content]) => ({ alg, content })) } : {}),
    ...(c.license !== undefined ? { licenses: [license(c.license)] } : {}),
    ...(c.purl !== undefined ? { purl: c.purl } : {}),
    ...(c.vcs !== undefined ? { externalReferences: [{ type: 'vcs', url: c.vcs }] } : {}),
    ...(properties.length > 0 ? { properties: properties.map(([name, value]) => ({ name, value })) } : {}),
  };
}

/** An SPDX expression as such; anything else ("SEE LICENSE IN …", "BSD") as a license name. */
function license(text: string): Record<string, unknown> {
  const term = String.raw`[A-Za-z0-9.+-]+(?::[A-Za-z0-9.+-]+)?`;
  const expression = new RegExp(String.raw`^\(*${term}\)*(?: (?:AND|OR|WITH) \(*${term}\)*)*$`);
  return expression.test(text) ? { expression: text } : { license: { name: text } };
}

/** A version-5-style UUID (SHA-based, name-based) from a name: the same name, the same UUID. */
function nameBasedUuid(name: string): string {
  const bytes = crypto.createHash('sha256').update(`nabla-build sbom ${name}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
