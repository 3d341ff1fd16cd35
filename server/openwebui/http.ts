// The transport under the Open WebUI client: `got` with timeouts and retries, answers parsed
// tolerantly (schemas.ts), errors mapped to the kinds the KB sync records, and version detection
// (which release-dependent route to use). The routes themselves are in client.ts.
import got, { HTTPError, RequestError, TimeoutError, type Got, type OptionsInit } from 'got';
import type { z } from 'zod';
import { capabilitiesFor, THRESHOLDS, unsupportedReason, type Capabilities } from './capabilities.ts';
import { VersionSchema } from './schemas.ts';

export { versionAtLeast } from './capabilities.ts';

export interface OpenWebUIClientOptions {
  url: string;
  apiKey: string;
  /** Per-request timeout (ms); uploads get four times this. */
  timeoutMs?: number;
  /** Retries on 5xx and network errors for idempotent calls. */
  retries?: number;
  /** Cap of the exponential retry backoff (ms). */
  retryBackoffLimitMs?: number;
}

/** Why a call failed, in the terms the KB sync records per file. */
export type FailureKind =
  | 'duplicate_content'
  | 'unsupported_type'
  | 'too_large'
  | 'not_processed'
  /** The upload is stored but Open WebUI was still processing it when the hub stopped waiting. */
  | 'still_processing'
  | 'processing_failed'
  | 'not_found'
  | 'unauthorized'
  | 'unavailable'
  | 'error';

export class OpenWebUIError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
    /**
     * The route is not there: 404/405 "Not Found"/"Method Not Allowed" from the framework, or the
     * web app's HTML page that a real server answers to any GET path it does not know.
     */
    readonly routeMissing = false,
  ) {
    super(message);
    this.name = 'OpenWebUIError';
  }
}

/** Turn an error detail from Open WebUI into a failure kind. */
export function classifyDetail(status: number | undefined, detail: string): FailureKind {
  const d = detail.toLowerCase();
  if (d.includes('duplicate content')) return 'duplicate_content';
  if (status === 413 || d.includes('too large') || d.includes('exceeds')) return 'too_large';
  if (d.includes('not allowed') || d.includes('not supported')) return 'unsupported_type';
  if (d.includes('not processed') || d.includes('extracted content is not available')) return 'not_processed';
  if (d.includes('content provided is empty')) return 'processing_failed';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status !== undefined && status >= 500) return 'unavailable';
  return 'error';
}

/** Calls and version detection; OpenWebUIClient (client.ts) adds the routes. */
export class OpenWebUIHttp {
  protected readonly http: Got;
  private versionCache: string | undefined;

  constructor(protected readonly opts: OpenWebUIClientOptions) {
    const timeout = opts.timeoutMs ?? 30_000;
    this.http = got.extend({
      prefixUrl: opts.url.replace(/\/+$/, ''),
      headers: { authorization: `Bearer ${opts.apiKey}`, accept: 'application/json' },
      timeout: { request: timeout },
      retry: {
        limit: opts.retries ?? 3,
        // Only the calls that are safe to repeat keep this (client.ts); uploads and creates opt out.
        methods: ['GET', 'POST', 'DELETE'],
        statusCodes: [408, 429, 500, 502, 503, 504, 521, 522, 524],
        backoffLimit: opts.retryBackoffLimitMs ?? 4_000,
      },
      responseType: 'text',
    });
  }

  get baseUrl(): string {
    return this.opts.url;
  }

  protected async call<T extends z.ZodType>(schema: T, path: string, options: OptionsInit = {}): Promise<z.infer<T>> {
    let body: string;
    let status: number;
    try {
      const res = (await this.http(path, options as never)) as unknown as { body: string; statusCode: number };
      body = res.body;
      status = res.statusCode;
    } catch (e) {
      throw toOpenWebUIError(e, path);
    }
    let json: unknown;
    try {
      json = body === '' ? null : JSON.parse(body);
    } catch {
      throw notJson(path, status, body);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new OpenWebUIError('error', `${path}: unexpected answer shape: ${parsed.error.issues[0]?.message ?? ''}`);
    }
    return parsed.data;
  }

  async version(): Promise<string> {
    if (!this.versionCache) {
      // /api/version sits outside /api/v1 and needs no auth in any release.
      const v = await this.call(VersionSchema, 'api/version');
      this.versionCache = v.version;
    }
    return this.versionCache;
  }

  /** What this server offers (capabilities.ts), from its version; throws for a release too old. */
  async capabilities(): Promise<Capabilities> {
    const version = await this.version();
    const why = unsupportedReason(version);
    if (why) throw new OpenWebUIError('error', why);
    return capabilitiesFor(version);
  }

  /** One quick look, no retries (for status pages): the version, or undefined when unreachable. */
  async probeVersion(timeoutMs = 3_000): Promise<string | undefined> {
    try {
      const v = await this.call(VersionSchema, 'api/version', { retry: { limit: 0 }, timeout: { request: timeoutMs } });
      this.versionCache = v.version;
      return v.version;
    } catch {
      // no /api/version: an older or unusual server, the caller falls back on route probing
      return undefined;
    }
  }

  /** 0.8.0 replaced `access_control` with `access_grants`. */
  async usesAccessGrants(): Promise<boolean> {
    return (await this.capabilities()).accessGrants;
  }

  /** KB folders exist since 0.9.6. */
  async supportsDirectories(): Promise<boolean> {
    return (await this.capabilities()).directories;
  }

  /**
   * The quick path of an upload (docs/OPENWEBUI-API.md "Uploads and processing"): processing
   * inside the upload request (`process_in_background=false`), `files/batch/add` that says per
   * file what it added, `DELETE /files/{id}` that also unlinks the file from its KBs, and
   * `/files/search` to find an upload whose answer the hub stopped waiting for. All four are in
   * the release the contract suite checks; before it, a disconnect could cancel the processing
   * inside the request (the middleware then cancelled the handler), so older releases keep the
   * background processing and the per-file routes.
   */
  async supportsQuickUploads(): Promise<boolean> {
    return (await this.capabilities()).quickUploads;
  }
}

/** The oldest release the quick upload path is used with (see supportsQuickUploads). */
export const QUICK_UPLOADS_FROM = THRESHOLDS.quickUploads;

/** For answers whose body the hub does not read. */
export const anyJson = { safeParse: (v: unknown) => ({ success: true as const, data: v }) } as unknown as z.ZodType<unknown>;

/**
 * A 2xx answer that is not JSON. An HTML page is the web app's SPA fallback, which a real server
 * serves for any GET path it does not know (`/api/...` included): the route is missing.
 */
function notJson(path: string, status: number, body: string): OpenWebUIError {
  const html = /^\s*<(!doctype html|html)/i.test(body);
  const said = html ? `its web page (${titleOf(body) ?? 'HTML'})` : JSON.stringify(body.slice(0, 120));
  return new OpenWebUIError('error', `${path}: answer is not JSON: ${status} with ${said}`, status, html);
}

function titleOf(html: string): string | undefined {
  const t = /<title[^>]*>([^<]{0,80})<\/title>/i.exec(html)?.[1]?.trim();
  return t ? `"${t}"` : undefined;
}

/** FastAPI's own answer for a path or method it has no route for (not a route's "not found"). */
function frameworkMissing(status: number, detail: string): boolean {
  return (status === 404 && detail === 'Not Found') || (status === 405 && detail === 'Method Not Allowed');
}

export function toOpenWebUIError(e: unknown, path: string): OpenWebUIError {
  if (e instanceof OpenWebUIError) return e;
  if (e instanceof TimeoutError && e.event === 'response') {
    // The request went out whole; the answer is what is late (processing inside the request).
    return new OpenWebUIError('still_processing', `${path}: no answer within the wait (${e.message})`);
  }
  if (e instanceof HTTPError) {
    const status = e.response.statusCode;
    const detail = detailOf(e.response.body);
    return new OpenWebUIError(classifyDetail(status, detail), `${path}: ${status} ${detail}`.trim(), status, frameworkMissing(status, detail));
  }
  if (e instanceof RequestError) {
    return new OpenWebUIError('unavailable', `${path}: ${e.code ?? ''} ${e.message}`.trim());
  }
  return new OpenWebUIError('error', `${path}: ${String(e)}`);
}

function detailOf(body: unknown): string {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : String(body ?? '');
  try {
    const j = JSON.parse(text) as { detail?: unknown; message?: unknown };
    const d = j.detail ?? j.message;
    if (typeof d === 'string') return d;
    if (d !== undefined) return JSON.stringify(d);
  } catch {
    /* not JSON */
  }
  return text.slice(0, 300);
}
