// Where the client's API key comes from, and a plain statement of where it is kept: an explicit
// --key-file (only the owner may read it), YOULAB_API_KEY (in memory, as `npm start` hands it
// over), or the OS keychain. Nothing here writes a key anywhere.
import { readFile, stat } from 'node:fs/promises';
import { accountFor, type SecretStore } from './keychain.ts';
import { UsageError } from './options.ts';

export interface KeySource {
  key: string;
  /** Where the key is kept, for the user: "the OS keychain", "memory only (...)", "the key file ...". */
  where: string;
}

/** A key file that is missing, empty or readable by others; the message says how to fix it. */
export class KeyFileError extends UsageError {
  override name = 'KeyFileError';
}

/**
 * The key in `path`: its first line. Refused when group or others may read or write it (the key
 * would be as good as public on a shared machine); Windows has no such mode bits, so there the
 * file's ACL is the user's business.
 */
export async function readKeyFile(path: string, platform: NodeJS.Platform = process.platform): Promise<string> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new KeyFileError(`--key-file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!st.isFile()) throw new KeyFileError(`--key-file ${path}: not a regular file`);
  if (platform !== 'win32' && (st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw new KeyFileError(`--key-file ${path}: group or others can access it (mode ${mode}); the key was not used. Run: chmod 600 '${path}'`);
  }
  const key = (await readFile(path, 'utf8')).split(/\r?\n/)[0]?.trim() ?? '';
  if (!key) throw new KeyFileError(`--key-file ${path}: the file is empty (put the API key on its first line)`);
  return key;
}

export interface KeySourceInput {
  server: string;
  keyFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  keychain: SecretStore;
  platform?: NodeJS.Platform;
}

/** The key to use and where it is kept; a KeychainUnavailableError (saying what to do instead) when none is found. */
export async function resolveApiKey(input: KeySourceInput): Promise<KeySource> {
  if (input.keyFile) return { key: await readKeyFile(input.keyFile, input.platform), where: `the key file ${input.keyFile} (read only; never written)` };
  const fromEnv = (input.env ?? process.env).YOULAB_API_KEY?.trim();
  if (fromEnv) return { key: fromEnv, where: 'memory only (YOULAB_API_KEY, handed over at start; not stored anywhere)' };
  const key = await input.keychain.get(accountFor(input.server));
  if (!key) {
    throw new UsageError(
      `no API key for ${input.server}: run 'youlab-sync login --server ${input.server}', set YOULAB_API_KEY, or pass --key-file <file> (mode 0600)`,
    );
  }
  return { key, where: 'the OS keychain' };
}
