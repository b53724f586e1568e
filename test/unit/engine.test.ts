/** What the engine streams back, read without trusting a stream's end. */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forEachLine, readDaemonStream } from '../../src/engine/lines.js';

/** A stream that delivers `text` in pieces cut at `cuts`, as a socket may. */
function chunks(text: string, ...cuts: number[]): Readable {
  const bytes = Buffer.from(text);
  const edges = [0, ...cuts, bytes.length];
  return Readable.from(edges.slice(1).map((end, i) => bytes.subarray(edges[i], end)));
}

async function daemon(lines: string[], cut = 7): Promise<{ shown: string[]; error?: string }> {
  const shown: string[] = [];
  try {
    await readDaemonStream(chunks(lines.map((l) => `${l}\r\n`).join(''), cut), (line) => shown.push(line));
    return { shown };
  } catch (error) {
    return { shown, error: (error as Error).message };
  }
}

describe('readDaemonStream', () => {
  it('passes on the text of stream and status lines, split however the socket cut them', async () => {
    const result = await daemon(['{"stream":"Step 1/2 : FROM x\\n"}', '{"status":"Loading layer"}', '{"aux":{"ID":"sha256:1"}}', 'not json']);
    expect(result).toEqual({ shown: ['Step 1/2 : FROM x', 'Loading layer', 'not json'] });
  });

  it('rejects on an error line even though the stream ends normally, after reading it all', async () => {
    const result = await daemon([
      '{"status":"Loading layer"}',
      '{"errorDetail":{"message":"no space left on device"},"error":"no space left on device"}',
      '{"stream":"after the error"}',
      '{"error":"a second error"}',
    ]);
    expect(result.error).toBe('no space left on device');
    expect(result.shown).toEqual(['Loading layer', 'after the error']);
  });

  it('an error line without a message still fails', async () => {
    expect((await daemon(['{"errorDetail":{}}'])).error).toMatch(/reported an error/);
  });
});

describe('forEachLine', () => {
  it('keeps a UTF-8 character cut between chunks whole, and gives the last line without its newline', async () => {
    const lines: string[] = [];
    await forEachLine(chunks('‘quoted’\n\nend', 2), (line) => lines.push(line));
    expect(lines).toEqual(['‘quoted’', '', 'end']);
  });
});
