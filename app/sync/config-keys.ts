// Keys a config.yaml may not carry, and what to write instead. Unknown keys are an error rather
// than silently dropped: a user's `sync.ignore_patterns` from the original design would otherwise
// quietly not apply (issue 15, item 5). Pure: no I/O.

/** Keys of the original design (and common slips) with the advice that replaces them. */
const RENAMED: Record<string, string> = {
  'sync.ignore_patterns': 'move the patterns to the top-level `ignore:` list (gitignore syntax), or into a .youlabignore file in the synced folder (it applies to every client and the KB)',
  'sync.ignore': 'move the patterns to the top-level `ignore:` list (gitignore syntax), or into a .youlabignore file in the synced folder',
  'sync.bidirectional': 'sync always runs both ways; remove the key (there is no one-way mode)',
  'sync.direction': 'sync always runs both ways; remove the key (there is no one-way mode)',
  'sync.enabled': 'remove the key; to stop syncing, quit the app or the client',
  'sync.interval_seconds': 'use sync.interval (e.g. "30s")',
  'sync.folder': 'use sync.local_folder',
  'sync.local_path': 'use sync.local_folder',
  'sync.device_name': 'use sync.device',
  'watch.debounce_ms': 'use watch.debounce (e.g. "300ms")',
  'server.api_key': 'the key is never read from a file; keep it in the OS keychain (youlab-sync login), YOULAB_API_KEY, or --key-file',
  'server.host': 'use server.url (e.g. "http://127.0.0.1:8100")',
  'server.port': 'use server.url (e.g. "http://127.0.0.1:8100")',
  ignore_patterns: 'use the top-level `ignore:` list (gitignore syntax), or a .youlabignore file in the synced folder',
  local_folder: 'use sync.local_folder',
};

/** The message for one unknown key at `path` (dotted), given the keys allowed at that level. */
export function unknownKeyMessage(path: string, allowedHere: readonly string[]): string {
  const advice = RENAMED[path];
  if (advice) return `unknown key ${path}: ${advice}`;
  const key = path.slice(path.lastIndexOf('.') + 1);
  const near = closest(key, allowedHere);
  const prefix = path.includes('.') ? `${path.slice(0, path.lastIndexOf('.'))}.` : '';
  if (near) return `unknown key ${path}: use ${prefix}${near}`;
  return `unknown key ${path}: the keys here are ${allowedHere.map((k) => prefix + k).join(', ')}`;
}

/** The allowed key nearest to `key` by edit distance, when near enough to be a slip. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(key.toLowerCase(), a);
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
