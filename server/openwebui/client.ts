// Open WebUI HTTP client: the knowledge-base, file and user routes the hub's KB sync uses, on the
// transport in http.ts, parsed tolerantly across releases 0.6.x to 0.12.x (the traps:
// docs/OPENWEBUI-API.md).
import mime from 'mime-types';
import type { z } from 'zod';
import { anyJson, OpenWebUIError, OpenWebUIHttp, toOpenWebUIError } from './http.ts';
import {
  BatchAddAnswerSchema,
  DirectoryListingSchema,
  DirectorySchema,
  FolderPageSchema,
  KnowledgeSchema,
  OwuiFileSchema,
  OwuiUserSchema,
  ProcessStatusSchema,
  UserListSchema,
  UserRecordSchema,
  pageOf,
  type Directory,
  type Knowledge,
  type OwuiFile,
  type OwuiUser,
} from './schemas.ts';

export interface AccessGrant {
  principal_type: 'user' | 'group';
  principal_id: string;
  permission: 'read' | 'write';
}

export interface UploadOptions {
  /**
   * Process inside the upload request (0.12.4+, `process_in_background=false`) and wait this long
   * for the answer once the bytes are sent; longer throws kind `still_processing`.
   */
  processInlineForMs?: number;
}

export interface ProcessResult {
  status: 'pending' | 'completed' | 'failed';
  error?: string;
}

/** Content types Open WebUI's loaders handle well; `.ts` must not go out as `video/mp2t`. */
export function contentTypeFor(filename: string): string {
  const lower = filename.toLowerCase();
  const ext = lower.slice(lower.lastIndexOf('.') + 1);
  const textual = new Set(['ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs', 'py', 'rb', 'go', 'rs', 'java', 'c', 'h', 'cpp', 'hpp', 'cs', 'sh', 'toml', 'ini', 'cfg', 'conf', 'log', 'sql', 'tex', 'rst', 'org', 'adoc']);
  if (lower.lastIndexOf('.') >= 0 && textual.has(ext)) return 'text/plain';
  const guessed = mime.lookup(filename);
  if (!guessed || guessed.startsWith('video/') || guessed.startsWith('audio/')) return 'text/plain';
  return guessed;
}

/** The routes the KB sync uses; calls, errors and version detection come from OpenWebUIHttp (http.ts). */
export class OpenWebUIClient extends OpenWebUIHttp {
  /** The caller. 0.12 answers 403 "A human session is required." to API keys here. */
  async me(): Promise<OwuiUser> {
    return this.call(OwuiUserSchema, 'api/v1/auths/');
  }

  /**
   * Find a user by email (admin key): the admin's user listing, `GET /users/?query=` (every
   * release; `/users/search` answers without emails before 0.12).
   */
  async findUserByEmail(email: string): Promise<OwuiUser | undefined> {
    const res = await this.call(UserListSchema, 'api/v1/users/', { searchParams: { query: email } });
    return res.users.find((u) => u.email?.toLowerCase() === email.toLowerCase());
  }

  // ---- knowledge ----

  async listKnowledge(): Promise<Knowledge[]> {
    const out: Knowledge[] = [];
    for (let page = 1; page < 1000; page++) {
      const res = await this.call(pageOf(KnowledgeSchema), 'api/v1/knowledge/', { searchParams: { page } });
      out.push(...res.items);
      if (!res.paged || res.items.length === 0 || out.length >= res.total) break;
    }
    return out;
  }

  /** The oldest KB called `name` that `accept` agrees to. */
  async findKnowledgeByName(name: string, accept: (kb: Knowledge) => Promise<boolean> = async () => true): Promise<Knowledge | undefined> {
    // Several with one name (e.g. a create retried): the oldest is the one files went into.
    const named = (await this.listKnowledge()).filter((k) => k.name === name).sort((a, b) => num(a.created_at) - num(b.created_at));
    for (const kb of named) if (await accept(kb)) return kb;
    return undefined;
  }

  /** A user record with its role (admin key); undefined when there is no such user. */
  async getUser(id: string): Promise<OwuiUser | undefined> {
    let u: z.infer<typeof UserRecordSchema>;
    try {
      u = await this.call(UserRecordSchema, `api/v1/users/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof OpenWebUIError && (e.kind === 'not_found' || e.status === 400)) return undefined;
      throw e;
    }
    if (u.role !== undefined) return { ...u, id };
    // 0.6.30 answers only name and picture here: the admin's full listing has the role.
    const all = await this.call(UserListSchema, 'api/v1/users/all');
    return all.users.find((x) => x.id === id);
  }

  /** undefined when the KB does not exist (any more). */
  async getKnowledge(id: string): Promise<Knowledge | undefined> {
    try {
      return await this.call(KnowledgeSchema, `api/v1/knowledge/${encodeURIComponent(id)}`, { retry: { limit: 1 } });
    } catch (e) {
      // Missing KBs answer 404 (0.12.4), or 401 "We could not find what you're looking for :/" (0.6.30).
      if (e instanceof OpenWebUIError && (e.kind === 'not_found' || /not found|could not find/i.test(e.message))) return undefined;
      throw e;
    }
  }

  async createKnowledge(name: string, description: string, grantUserId?: string): Promise<Knowledge> {
    const body: Record<string, unknown> = { name, description };
    if (await this.usesAccessGrants()) {
      body.access_grants = grantUserId
        ? (['read', 'write'] as const).map((permission) => ({
            principal_type: 'user',
            principal_id: grantUserId,
            permission,
          }))
        : [];
    } else {
      // Up to 0.7: null would mean "everyone can read".
      body.access_control = grantUserId
        ? { read: { user_ids: [grantUserId], group_ids: [] }, write: { user_ids: [grantUserId], group_ids: [] } }
        : {};
    }
    return this.call(KnowledgeSchema, 'api/v1/knowledge/create', { method: 'POST', json: body, retry: { limit: 0 } });
  }

  /**
   * Replace the KB's description (`POST /knowledge/{id}/update`, name and description). 0.12.4
   * leaves access alone on this route (it drops `access_grants` from the update); releases up to
   * 0.7 write the whole form, so a missing `access_control` would be stored as null: everyone
   * reads. The KB's own access goes back with it, and without one to send nothing is written
   * (docs/OPENWEBUI-API.md "Routes the hub uses").
   */
  /** Whether the hub may keep a line in KB descriptions on this release (see below). */
  async describesKnowledge(): Promise<boolean> {
    return (await this.capabilities()).knowledgeFilesRoute;
  }

  async updateKnowledgeDescription(kb: Knowledge, description: string): Promise<void> {
    // Before 0.6.42 the KB's file list is its `data.file_ids`, and this route stores the whole form:
    // an update without `data` empties the KB (seen on real 0.6.30). Sending `data` back would race
    // with a file added meanwhile, so on those releases the description is left alone.
    if (!(await this.capabilities()).knowledgeFilesRoute) {
      throw new OpenWebUIError('error', `knowledge ${kb.id}: this Open WebUI release keeps a KB's files in the form its update route overwrites, so the description is not rewritten`);
    }
    const body: Record<string, unknown> = { name: kb.name, description };
    if (await this.usesAccessGrants()) {
      if (Array.isArray(kb.access_grants)) body.access_grants = kb.access_grants;
    } else {
      if (kb.access_control === undefined || kb.access_control === null) {
        throw new OpenWebUIError('error', `knowledge ${kb.id}: its access is unknown, so its description is not rewritten (it would become public)`);
      }
      body.access_control = kb.access_control;
    }
    await this.call(anyJson, `api/v1/knowledge/${encodeURIComponent(kb.id)}/update`, { method: 'POST', json: body, retry: { limit: 0 } });
  }

  async deleteKnowledge(id: string): Promise<void> {
    await this.call(anyJson, `api/v1/knowledge/${encodeURIComponent(id)}/delete`, { method: 'DELETE' });
  }

  /** Every file of a KB, oldest first (paged by the immutable created_at). */
  async listKnowledgeFiles(knowledgeId: string): Promise<OwuiFile[]> {
    // Before 0.6.42 there is no /files route: the KB record inlines them.
    if (!(await this.capabilities()).knowledgeFilesRoute) return this.inlineKnowledgeFiles(knowledgeId);
    const byId = new Map<string, OwuiFile>();
    let pagedApi = true;
    for (let page = 1; page < 10_000 && pagedApi; page++) {
      let res: { items: OwuiFile[]; total: number; paged: boolean };
      try {
        res = await this.call(pageOf(OwuiFileSchema), `api/v1/knowledge/${encodeURIComponent(knowledgeId)}/files`, {
          // `limit` is honoured for admins (the hub's key; 0.12.4 source), so one request lists a
          // few hundred files; a release that ignores it answers 30 a page and the loop goes on.
          searchParams: { page, limit: LIST_PAGE, order_by: 'created_at', direction: 'asc' },
        });
      } catch (e) {
        // A build that says a newer version but lacks the route (its web page, 404 or 405).
        if (e instanceof OpenWebUIError && e.routeMissing && page === 1) return this.inlineKnowledgeFiles(knowledgeId, e);
        throw e;
      }
      for (const f of res.items) byId.set(f.id, f);
      if (!res.paged || res.items.length === 0 || byId.size >= res.total) pagedApi = false;
    }
    const files = [...byId.values()];
    // 0.9.6 has folders but lists files without theirs: learn them folder by folder.
    if (files.some((f) => f.directory_path === undefined) && (await this.capabilities()).directories) {
      return this.withFolders(knowledgeId, files);
    }
    return files;
  }

  /** `files` with `directory_id` and `directory_path` from one listing per KB folder (0.9.6). */
  private async withFolders(knowledgeId: string, files: OwuiFile[]): Promise<OwuiFile[]> {
    const byId = new Map(files.map((f) => [f.id, { ...f, directory_id: null, directory_path: '' } as OwuiFile]));
    const queue: { id: string | null; path: string }[] = [{ id: null, path: '' }];
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { id, path } = next;
      for (let page = 1, seen = 0; page < 10_000; page++) {
        const res = await this.call(FolderPageSchema, `api/v1/knowledge/${encodeURIComponent(knowledgeId)}/files`, {
          searchParams: { page, limit: LIST_PAGE, directory_id: id ?? '' },
        });
        if (page === 1) for (const d of res.directories ?? []) queue.push({ id: d.id, path: path ? `${path}/${d.name}` : d.name });
        for (const it of res.items) {
          const f = byId.get(it.id);
          if (f && id !== null) byId.set(it.id, { ...f, directory_id: id, directory_path: path });
        }
        seen += res.items.length;
        if (res.items.length === 0 || seen >= (res.total ?? seen)) break;
      }
    }
    return [...byId.values()];
  }

  /** The files a KB record carries inline (releases before 0.6.42). */
  private async inlineKnowledgeFiles(knowledgeId: string, cause?: OpenWebUIError): Promise<OwuiFile[]> {
    const kb = await this.getKnowledge(knowledgeId);
    if (!kb) throw cause ?? new OpenWebUIError('not_found', `knowledge ${knowledgeId} is gone`, 404);
    return kb.files ?? [];
  }

  async addFileToKnowledge(knowledgeId: string, fileId: string, directoryId?: string): Promise<void> {
    // Not retried on 5xx: a failed add already marked the file failed; the round decides again.
    await this.call(anyJson, `api/v1/knowledge/${encodeURIComponent(knowledgeId)}/file/add`, {
      method: 'POST',
      json: directoryId ? { file_id: fileId, directory_id: directoryId } : { file_id: fileId },
      retry: { limit: 0 },
    });
  }

  /**
   * Add processed files in one request (0.12.4: `files/batch/add`); the ids of those the KB holds
   * afterwards. It embeds them in one go and skips files the KB already holds, so sending a file
   * twice does no harm. A file it refuses (duplicate content...) is simply not in the answer: the
   * reasons it collects are dropped by its answer's model. Not retried on 5xx: the next round
   * sends the pending files again.
   */
  async addFilesToKnowledge(knowledgeId: string, entries: { file_id: string; directory_id?: string }[]): Promise<Set<string>> {
    const res = await this.call(BatchAddAnswerSchema, `api/v1/knowledge/${encodeURIComponent(knowledgeId)}/files/batch/add`, {
      method: 'POST',
      json: entries,
      retry: { limit: 0 },
      // It embeds every file of the batch before it answers: as long as an upload may take.
      timeout: { request: (this.opts.timeoutMs ?? 30_000) * 4 },
    });
    const inKb = new Set(res.files.map((f) => f.id));
    return new Set(entries.map((e) => e.file_id).filter((id) => inKb.has(id)));
  }

  /** The folders directly under `parentId` (null: the KB's root). */
  async listDirectories(knowledgeId: string, parentId: string | null): Promise<Directory[]> {
    const res = await this.call(DirectoryListingSchema, `api/v1/knowledge/${encodeURIComponent(knowledgeId)}/files`, {
      searchParams: { page: 1, directory_id: parentId ?? '' },
    });
    return res.directories ?? [];
  }

  async createDirectory(knowledgeId: string, name: string, parentId: string | null): Promise<Directory> {
    return this.call(DirectorySchema, `api/v1/knowledge/${encodeURIComponent(knowledgeId)}/dirs/create`, {
      method: 'POST',
      json: { name, parent_id: parentId },
      retry: { limit: 0 },
    });
  }

  async removeFileFromKnowledge(knowledgeId: string, fileId: string): Promise<void> {
    await this.call(anyJson, `api/v1/knowledge/${encodeURIComponent(knowledgeId)}/file/remove`, {
      method: 'POST',
      json: { file_id: fileId },
    });
  }

  // ---- files ----

  async uploadFile(
    bytes: Uint8Array,
    filename: string,
    metadata: Record<string, unknown>,
    opts: UploadOptions = {},
  ): Promise<OwuiFile> {
    const form = new FormData();
    const base = filename.slice(filename.lastIndexOf('/') + 1);
    form.append('file', new Blob([new Uint8Array(bytes)], { type: contentTypeFor(base) }), base);
    form.append('metadata', JSON.stringify(metadata));
    const transfer = (this.opts.timeoutMs ?? 30_000) * 4;
    const wait = opts.processInlineForMs;
    return this.call(OwuiFileSchema, 'api/v1/files/', {
      method: 'POST',
      body: form,
      // The answer's `data.status` is the one before processing: read the status afterwards.
      ...(wait !== undefined ? { searchParams: { process: true, process_in_background: false } } : {}),
      // Re-sending an upload could create a second file: the next round decides instead.
      retry: { limit: 0 },
      // `response` runs from the last byte sent to the answer: the processing time alone.
      timeout: wait !== undefined ? { request: transfer + wait, response: Math.max(1, wait) } : { request: transfer },
    });
  }

  /**
   * The newest of the files named `basename` whose upload metadata `match` accepts (0.12.4:
   * `/files/search`, newest first; an admin sees every user's files). It finds an upload whose
   * answer the hub stopped waiting for.
   */
  async findFile(basename: string, match: (data: Record<string, unknown>) => boolean): Promise<OwuiFile | undefined> {
    let found: OwuiFile[];
    try {
      // `*` and `?` are the route's wildcards: `?` (any one character) stands for them.
      found = await this.call(OwuiFileSchema.array(), 'api/v1/files/search', {
        searchParams: { filename: basename.replace(/[*?]/g, '?'), content: false, limit: 100 },
      });
    } catch (e) {
      // "No files found matching the pattern." is a 404.
      if (e instanceof OpenWebUIError && e.kind === 'not_found') return undefined;
      throw e;
    }
    return found.find((f) => match(f.meta?.data ?? {}));
  }

  async getFile(id: string): Promise<OwuiFile | undefined> {
    try {
      return await this.call(OwuiFileSchema, `api/v1/files/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof OpenWebUIError && e.kind === 'not_found') return undefined;
      throw e;
    }
  }

  async processStatus(id: string): Promise<ProcessResult> {
    let status: string;
    let error: string | undefined;
    try {
      // Before 0.6.23 there is no status route: the record's data.status says it.
      if (!(await this.capabilities()).processStatusRoute) throw new OpenWebUIError('error', 'no process/status route', 404, true);
      const res = await this.call(ProcessStatusSchema, `api/v1/files/${encodeURIComponent(id)}/process/status`);
      status = res.status;
      error = res.error ?? undefined;
    } catch (e) {
      if (!(e instanceof OpenWebUIError) || !e.routeMissing) throw e;
      const f = await this.getFile(id);
      if (!f) throw new OpenWebUIError('not_found', `file ${id} is gone`, 404);
      status = f.data?.status ?? 'completed';
    }
    if (status === 'failed' && error === undefined) {
      error = (await this.getFile(id).catch(() => undefined))?.data?.error ?? undefined; // the reason is a courtesy: without it the failure is still recorded
    }
    if (status === 'completed' || status === 'failed') return { status, ...(error ? { error } : {}) };
    return { status: 'pending' };
  }

  /**
   * Poll until processing ends or `timeoutMs` passes (then 'pending'). Small text files take tens
   * of milliseconds, so the first look comes soon and the pause grows from there (50, 75, 112 ...
   * up to 1 s): a file is seen done at most about half its processing time late.
   */
  async waitProcessed(id: string, timeoutMs: number, pollMs = 50): Promise<ProcessResult> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.processStatus(id);
      if (r.status !== 'pending' || Date.now() >= until) return r;
      await new Promise((res) => setTimeout(res, Math.min(pollMs, Math.max(0, until - Date.now()))));
      pollMs = Math.min(pollMs * 1.5, 1_000);
    }
  }

  async downloadFile(id: string): Promise<Buffer> {
    try {
      return await this.http(`api/v1/files/${encodeURIComponent(id)}/content`, { responseType: 'buffer' }).then(
        (r) => r.body,
      );
    } catch (e) {
      throw toOpenWebUIError(e, `files/${id}/content`);
    }
  }

  async deleteFile(id: string): Promise<void> {
    try {
      await this.call(anyJson, `api/v1/files/${encodeURIComponent(id)}`, { method: 'DELETE' });
    } catch (e) {
      // Already gone is what we wanted.
      if (e instanceof OpenWebUIError && e.kind === 'not_found') return;
      throw e;
    }
  }
}

/** Files per page of a KB listing (admins only; others get 30). */
const LIST_PAGE = 500;

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}
