// The hub's workspace store as the rest of the hub (HTTP routes, the agent watcher, the
// Open WebUI sync) sees it. One implementation lives in this folder; the KB sync and tests
// program against this interface. Its refusals are StoreErrors (server/store-error.ts).
import type { Readable } from 'node:stream';
import type { Change, FileEntry, PutResult } from '../../shared/protocol.ts';

export type ChangeSource = NonNullable<Change['source']>;

export interface WriteOptions {
  /** Replace only when the current hash equals this (`If-Match`). */
  ifMatch?: string;
  /** Create only when the path is absent (`If-None-Match: *`). */
  ifNoneMatch?: boolean;
  /** When given, the received bytes must hash to this or nothing is written. */
  expectedHash?: string;
  source: ChangeSource;
  /** Who made the change (the feed's `origin`); default: `agent` / `openwebui` for those sources. */
  origin?: string;
}

export interface DeleteOptions {
  ifMatch?: string;
  source: ChangeSource;
  origin?: string;
}

export interface WorkspaceStore {
  /** Every regular file in the user's workspace (symlinks skipped), with hashes from the hash cache. */
  list(userId: string): Promise<{ cursor: string; files: FileEntry[] }>;
  stat(userId: string, path: string): Promise<FileEntry | undefined>;
  read(userId: string, path: string): Promise<{ entry: FileEntry; stream: Readable }>;
  /** Atomic, conditional write; the previous content goes to the version store first. */
  write(userId: string, path: string, body: Readable | Uint8Array, opts: WriteOptions): Promise<PutResult>;
  /** Conditional delete; the content goes to the version store first. */
  remove(userId: string, path: string, opts: DeleteOptions): Promise<void>;
  /** Changes of one user, from any source (clients, the agent writing into the folder, KB sync). */
  onChange(listener: (userId: string, change: Change) => void): () => void;
  /** `<data-dir>/<user>/workspace` */
  workspaceDir(userId: string): string;
  /** A folder beside `workspace/` for the hub's own state of this user (never inside it). */
  stateDir(userId: string): string;
  /** Users that have a workspace folder. */
  users(): Promise<string[]>;
}
