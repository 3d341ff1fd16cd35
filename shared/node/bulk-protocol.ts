// Bulk transfer of small files (POST /users/:id/workspace/bulk and /bulk-get): many files per
// request, each still conditional, hash-verified and written atomically on its own, with a
// result per file. The body is a sequence of frames: a 4-byte big-endian length, that many
// bytes of JSON header, then the header's `size` bytes of content. Large files keep using the
// streaming PUT/GET of one file; bulk bodies are bounded so neither side buffers much.
import { z } from 'zod';
import { HashSchema } from '../protocol.ts';

/** Whole request (upload) or response (download) body. */
export const BULK_MAX_BYTES = 16 * 1024 * 1024;
export const BULK_MAX_ENTRIES = 1000;
/** Files larger than this never travel in bulk (the client sends them with PUT). */
export const BULK_MAX_FILE_BYTES = 1024 * 1024;
export const BULK_CONTENT_TYPE = 'application/x-youlab-bulk';
/** Longest JSON header of one frame. */
export const BULK_MAX_HEADER_BYTES = 8 * 1024;

export const BulkPutHeaderSchema = z
  .object({
    path: z.string().min(1),
    /** Replace only this content; or create only (If-None-Match: *). Exactly one is required. */
    ifMatch: HashSchema.optional(),
    ifNoneMatch: z.literal(true).optional(),
    sha256: HashSchema,
    size: z.number().int().nonnegative(),
  })
  .strict();
export type BulkPutHeader = z.infer<typeof BulkPutHeaderSchema>;

/** One file's outcome; `status` is what a PUT of that file alone would have answered. */
export const BulkResultSchema = z.object({
  path: z.string(),
  status: z.number().int(),
  hash: HashSchema.optional(),
  size: z.number().int().nonnegative().optional(),
  modified: z.string().optional(),
  error: z.string().optional(),
  message: z.string().optional(),
});
export type BulkResult = z.infer<typeof BulkResultSchema>;

export const BulkPutResponseSchema = z.object({ results: z.array(BulkResultSchema) });

export const BulkGetRequestSchema = z.object({ paths: z.array(z.string().min(1)).min(1).max(BULK_MAX_ENTRIES) }).strict();

/** Frame header of a bulk-get response: content follows when status is 200. */
export const BulkGetHeaderSchema = BulkResultSchema;
export type BulkGetHeader = BulkResult;

export function frame(header: object, body?: Uint8Array): Buffer[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return body && body.length > 0 ? [len, json, Buffer.from(body.buffer, body.byteOffset, body.byteLength)] : [len, json];
}

export class BulkFormatError extends Error {}

/** Reads frames from a byte stream without holding more than one frame's content. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private ended = false;
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;
  total = 0;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.have < n && !this.ended) {
      const next = await this.it.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const b = typeof next.value === 'string' ? Buffer.from(next.value) : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      this.chunks.push(b);
      this.have += b.length;
      this.total += b.length;
    }
    return this.have >= n;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.have);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.have = rest.length;
    return Buffer.from(out);
  }

  /** The next header (JSON, unvalidated), or undefined at a clean end of stream. */
  async header(): Promise<unknown> {
    if (!(await this.fill(1))) return undefined;
    if (!(await this.fill(4))) throw new BulkFormatError('truncated frame length');
    const len = this.take(4).readUInt32BE(0);
    if (len === 0 || len > BULK_MAX_HEADER_BYTES) throw new BulkFormatError(`frame header of ${len} bytes`);
    if (!(await this.fill(len))) throw new BulkFormatError('truncated frame header');
    try {
      return JSON.parse(this.take(len).toString('utf8'));
    } catch {
      throw new BulkFormatError('frame header is not JSON');
    }
  }

  async body(size: number): Promise<Buffer> {
    if (size === 0) return Buffer.alloc(0);
    if (!(await this.fill(size))) throw new BulkFormatError('truncated frame content');
    return this.take(size);
  }
}
