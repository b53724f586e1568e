/** Reading what the engine streams back: a container's output, a daemon's JSON lines. */
import { StringDecoder } from 'node:string_decoder';

/** Calls onLine with each line of a byte stream, the last one even without its '\n'. */
export async function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  // A chunk may end inside a UTF-8 character; the decoder keeps its first bytes for the next.
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of stream) {
    const lines = (pending + (typeof chunk === 'string' ? chunk : decoder.write(chunk))).split('\n');
    pending = lines.pop()!;
    lines.forEach(onLine);
  }
  pending += decoder.end();
  if (pending) onLine(pending);
}

interface DaemonMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Reads a daemon JSON-lines stream (build, pull, load, import) to its end, passing its
 * text on line by line. The daemon ends the stream normally even when the work failed, so
 * every line is checked for an error, and the first one found rejects once all is read.
 * The one place that rule lives.
 */
export async function readDaemonStream(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  let error: string | undefined;
  await forEachLine(stream, (raw) => {
    if (raw.trim() === '') return;
    let message: DaemonMessage;
    try {
      message = JSON.parse(raw) as DaemonMessage;
    } catch {
      onLine(raw.trimEnd());
      return;
    }
    if (message.error !== undefined || message.errorDetail !== undefined) {
      error ??= message.errorDetail?.message || message.error || 'the engine reported an error without a message';
    }
    const text = message.stream ?? message.status;
    if (text) for (const line of text.split('\n')) if (line.trim() !== '') onLine(line.trimEnd());
  });
  if (error !== undefined) throw new Error(error);
}
