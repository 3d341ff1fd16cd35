// Names a computer's own filesystem cannot hold, by operating system. The hub takes any name its
// path rules allow (paths.ts), so an agent's `aux.md` or `notes:v2.md` can arrive on a Windows
// laptop: the client skips such a download and says why and what to rename it to, instead of
// failing the write every round. Pure: the caller says which OS it is on, so the Windows rules
// are tested on any machine.

export type LocalOs = 'windows' | 'mac' | 'other';

/** The rule set for a Node `process.platform`. */
export function localOsOf(platform: string): LocalOs {
  if (platform === 'win32' || platform === 'cygwin') return 'windows';
  if (platform === 'darwin') return 'mac';
  return 'other';
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
const WINDOWS_BAD_CHARS = /[<>:"|?*]/;

/** Why Windows cannot hold one path segment, or undefined. The hub refuses these on upload too (paths.ts). */
export function windowsSegmentProblem(seg: string): string | undefined {
  if (WINDOWS_RESERVED.test(seg)) return `Windows-reserved name '${seg}'`;
  if (/[. ]$/.test(seg)) return 'name ends with a dot or a space';
  if (WINDOWS_BAD_CHARS.test(seg)) return 'character not allowed on Windows';
  return undefined;
}

export interface LocalNameProblem {
  /** Why this computer cannot hold the name. */
  reason: string;
  /** A name it can hold, to suggest. */
  suggestion: string;
}

/** Why `path` (a valid workspace path, '/'-separated) cannot be written on `os`, with a name that can. */
export function localNameProblem(path: string, os: LocalOs): LocalNameProblem | undefined {
  if (os === 'other') return undefined;
  const segs = path.split('/');
  let reason: string | undefined;
  for (const seg of segs) {
    reason ??= os === 'windows' ? windowsSegmentProblem(seg) : seg.includes(':') ? `':' in '${seg}' (macOS shows it as '/', and Finder and many apps cannot open it)` : undefined;
  }
  if (!reason) return undefined;
  return { reason, suggestion: segs.map((s) => safeSegment(s, os)).join('/') };
}

/** The message for the activity list and the issue: why, and what to rename. */
export function localNameMessage(path: string, p: LocalNameProblem, os: LocalOs): string {
  const where = os === 'windows' ? 'Windows' : 'macOS';
  return `not downloaded: ${where} cannot hold this name (${p.reason}); rename it in the workspace (on the hub or another device), e.g. to '${p.suggestion}'`;
}

function safeSegment(seg: string, os: LocalOs): string {
  if (os === 'mac') return seg.replaceAll(':', '-');
  let s = seg.replace(/[<>:"|?*]/g, '-').replace(/[. ]+$/, '');
  if (s === '') s = '_';
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`;
  return s;
}
