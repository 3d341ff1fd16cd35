// A tiny OpenAI-compatible embeddings endpoint for a real Open WebUI run offline: deterministic
// hashed bag-of-words vectors, so that processing and retrieval really run and similar texts
// really land near each other. Run standalone: `npx tsx tests/fakes/embeddings-server.ts [port]`.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export const EMBEDDING_DIMENSION = 256;

/** Hashed bag of words, L2-normalised; the empty text gets a fixed unit vector (never all zeros). */
export function embed(text: string, dimension = EMBEDDING_DIMENSION): number[] {
  const v = new Array<number>(dimension).fill(0);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const w of words) {
    const h = createHash('sha256').update(w).digest();
    const index = h.readUInt32BE(0) % dimension;
    v[index]! += h[4]! & 1 ? 1 : -1;
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  if (norm === 0) {
    v[0] = 1;
    return v;
  }
  return v.map((x) => x / norm);
}

export interface EmbeddingsServer {
  url: string; // base URL ending in /v1
  port: number;
  requests: () => number;
  /** Answer every embeddings request this much later (makes a real Open WebUI's processing slow). */
  setDelay: (ms: number) => void;
  close: () => Promise<void>;
}

export async function startEmbeddingsServer(port = 0, host = '127.0.0.1'): Promise<EmbeddingsServer> {
  let count = 0;
  let delayMs = 0;
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => send(res, 500, { error: { message: String(e) } }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && (url.pathname === '/v1/models' || url.pathname === '/models')) {
      return send(res, 200, { object: 'list', data: [{ id: 'hashed-bow', object: 'model' }] });
    }
    if (req.method !== 'POST' || !/^(\/v1)?\/embeddings$/.test(url.pathname)) {
      return send(res, 404, { error: { message: 'not found' } });
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: { input?: unknown; model?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return send(res, 400, { error: { message: 'invalid JSON' } });
    }
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(inputs) || !inputs.every((x) => typeof x === 'string')) {
      return send(res, 400, { error: { message: 'input must be a string or an array of strings' } });
    }
    count++;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    send(res, 200, {
      object: 'list',
      model: typeof body.model === 'string' ? body.model : 'hashed-bow',
      data: (inputs as string[]).map((text, index) => ({ object: 'embedding', index, embedding: embed(text) })),
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}/v1`,
    port: actual,
    requests: () => count,
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const s = await startEmbeddingsServer(Number(process.argv[2] ?? 0));
  console.log(`embeddings server on ${s.url}`);
}
