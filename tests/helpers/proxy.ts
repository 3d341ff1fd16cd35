// A loopback TCP proxy in front of the hub that a test can make misbehave:
//   pass  - forward both ways
//   stall - accept and read, but forward nothing (bytes are held, and flushed on the next pass)
//   drop  - cut every open connection and reset new ones at once
// Ephemeral port, 127.0.0.1 only; close() cuts everything.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'drop';

export interface Proxy {
  url: string;
  port: number;
  mode(): ProxyMode;
  setMode(m: ProxyMode): void;
  /** Connections accepted so far (each one a fault when the mode is not pass). */
  accepted(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  held: { toUp: Buffer[]; toClient: Buffer[] };
}

export async function startProxy(target: { host?: string; port: number }, initial: ProxyMode = 'pass'): Promise<Proxy> {
  let mode: ProxyMode = initial;
  let count = 0;
  const pairs = new Set<Pair>();

  const flush = (p: Pair): void => {
    for (const b of p.held.toUp.splice(0)) p.upstream.write(b);
    for (const b of p.held.toClient.splice(0)) p.client.write(b);
  };
  const cut = (p: Pair): void => {
    p.client.resetAndDestroy();
    p.upstream.destroy();
    pairs.delete(p);
  };

  const server: Server = createServer((client) => {
    count++;
    if (mode === 'drop') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    const p: Pair = { client, upstream, held: { toUp: [], toClient: [] } };
    pairs.add(p);
    client.on('data', (d: Buffer) => (mode === 'pass' ? upstream.write(d) : p.held.toUp.push(d)));
    upstream.on('data', (d: Buffer) => (mode === 'pass' ? client.write(d) : p.held.toClient.push(d)));
    const end = () => cut(p);
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    mode: () => mode,
    setMode(m) {
      mode = m;
      if (m === 'drop') for (const p of [...pairs]) cut(p);
      if (m === 'pass') for (const p of pairs) flush(p);
    },
    accepted: () => count,
    async close() {
      for (const p of [...pairs]) cut(p);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
