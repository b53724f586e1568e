/**
 * A proxy that forwards every connection to a target (a unix socket or host:port) until it
 * is cut: then every connection through it breaks at once and no new one gets through, as
 * when the engine or registry behind it dies mid-stream.
 */
import net from 'node:net';

export interface CutProxy {
  /** Where clients connect: the unix socket path, or "127.0.0.1:PORT". */
  address: string;
  /** Bytes the clients have sent through so far. */
  sent(): number;
  cut(): void;
}

export async function startCutProxy(target: string, listenOn?: string, cutWhen?: (sentBytes: number, chunk: Buffer) => boolean): Promise<CutProxy> {
  const sockets = new Set<net.Socket>();
  let sent = 0;
  let isCut = false;
  const server = net.createServer((client) => {
    if (isCut) return client.destroy();
    const upstream = target.startsWith('/') ? net.connect(target) : net.connect(Number(target.split(':')[1]), target.split(':')[0]);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (cutWhen?.(sent, chunk)) return proxy.cut();
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => (listenOn ? server.listen(listenOn, resolve) : server.listen(0, '127.0.0.1', resolve)));
  const port = (server.address() as net.AddressInfo | string | null);
  const proxy: CutProxy = {
    address: typeof port === 'string' ? port : `127.0.0.1:${port!.port}`,
    sent: () => sent,
    cut() {
      isCut = true;
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
  return proxy;
}
