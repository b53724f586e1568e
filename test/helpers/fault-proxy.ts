/**
 * An HTTP proxy in front of a registry that misbehaves on cue: it answers a request itself
 * with an error status (503, 429), or forwards part of its body and then breaks both
 * connections, as a network that drops in the middle of an upload. Everything else is
 * forwarded as it is, Host header included, so the registry's Location URLs point back here.
 */
import http from 'node:http';
import { listenOnLoopback } from './loopback.js';

export type Fault = { status: number; headers?: Record<string, string> } | { cutAfter: number };

export interface FaultProxy {
  host: string;
  /** "METHOD path → what happened", for each fault played. */
  played: string[];
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string, decide: (req: http.IncomingMessage) => Fault | undefined): Promise<FaultProxy> {
  const [targetHost, targetPort] = target.split(':');
  const played: string[] = [];
  const server = http.createServer((req, res) => {
    const fault = decide(req);
    const what = `${req.method} ${req.url!.replace(/\?.*/, '')}`;
    if (fault && 'status' in fault) {
      played.push(`${what} → ${fault.status}`);
      req.resume();
      req.on('end', () => res.writeHead(fault.status, fault.headers).end());
      return;
    }
    const upstream = http.request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    if (!fault) {
      req.pipe(upstream);
      return;
    }
    let sent = 0;
    req.on('data', (chunk: Buffer) => {
      const room = fault.cutAfter - sent;
      sent += chunk.length;
      if (room <= 0) return;
      upstream.write(chunk.subarray(0, room));
      if (chunk.length >= room) {
        played.push(`${what} → cut after ${fault.cutAfter} bytes`);
        // Let the registry take the bytes it got, then drop both sides.
        setTimeout(() => {
          upstream.destroy();
          req.socket.destroy();
        }, 200);
      }
    });
  });
  return { ...(await listenOnLoopback(server)), played };
}
