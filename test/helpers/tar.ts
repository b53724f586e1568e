/** A tar's entries in order, each with its header and its bytes, for tests to look into. */
import { extract, type Header } from 'tar-stream';

export async function tarEntries(tar: Buffer): Promise<{ header: Header; data: Buffer }[]> {
  const out: { header: Header; data: Buffer }[] = [];
  const unpack = extract();
  unpack.end(tar);
  for await (const entry of unpack) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    out.push({ header: entry.header, data: Buffer.concat(chunks) });
  }
  return out;
}
