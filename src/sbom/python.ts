/**
 * A Python app's dependencies as installed in its rootfs: every distribution in the
 * site folder (its *.dist-info/METADATA or *.egg-info/PKG-INFO), whether pip installed it
 * or the toolchain copied it from a Debian python3-* package (which the toolchain's
 * components.json names as well).
 */
import fs from 'node:fs';
import path from 'node:path';
import { purl } from './purl.js';
import type { Component } from './types.js';

export function pythonDistributions(site: string): Component[] {
  if (!fs.existsSync(site)) return [];
  const found = new Map<string, Component>();
  for (const entry of fs.readdirSync(site).sort()) {
    const file = entry.endsWith('.dist-info')
      ? path.join(site, entry, 'METADATA')
      : entry.endsWith('.egg-info')
        ? fs.statSync(path.join(site, entry)).isDirectory()
          ? path.join(site, entry, 'PKG-INFO')
          : path.join(site, entry)
        : undefined;
    if (!file || !fs.existsSync(file)) continue;
    const headers = metadataHeaders(fs.readFileSync(file, 'utf8'));
    const name = headers.get('name');
    const version = headers.get('version');
    if (!name || !version) continue;
    const normalized = name.toLowerCase().replace(/[-_.]+/g, '-'); // PEP 503, as the pypi purl wants it
    const license = headers.get('license-expression');
    const ref = purl('pypi', normalized, version);
    found.set(ref, { ref, type: 'library', name, version, purl: ref, ...(license ? { license } : {}) });
  }
  return [...found.values()];
}

/** The RFC 822 headers of a METADATA file (up to the first blank line), names lowercased; the first of each wins. */
function metadataHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') break;
    const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (match && !headers.has(match[1]!.toLowerCase())) headers.set(match[1]!.toLowerCase(), match[2]!.trim());
  }
  return headers;
}
