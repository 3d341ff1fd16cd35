// Pure: the one line of the KB's description in Open WebUI that the hub owns (docs/SYNC-SPEC.md
// "Hub and knowledge base"), so a user who looks at the KB in the web UI sees how its sync
// stands: "↻ Synced with your Ralph workspace · 214 files · 2026-12-01 12:03 UTC · 1 failed:
// slides.pptx (unsupported type)". Every other line of the description is the user's and stays.
import type { FileStatus } from './kb-types.ts';

/** The start of the hub's line; a line that starts so is the hub's (and only such a line). */
export const DESCRIPTION_MARK = '↻ Synced with your Ralph workspace';

/** Failed files named in the line; the rest are counted. */
const NAMED_FAILURES = 3;
/** Longest reason shown per failed file. */
const REASON_CHARS = 80;

export interface DescriptionFacts {
  /** Files the KB holds in sync (the base). */
  files: number;
  at: Date;
  failed: readonly Pick<FileStatus, 'path' | 'message' | 'reason'>[];
  processing: number;
  held: number;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function stamp(d: Date): string {
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

function short(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= REASON_CHARS ? one : `${one.slice(0, REASON_CHARS - 1)}…`;
}

export function descriptionLine(f: DescriptionFacts): string {
  const parts = [DESCRIPTION_MARK, plural(f.files, 'file'), stamp(f.at)];
  if (f.processing > 0) parts.push(`${f.processing} processing`);
  if (f.failed.length > 0) {
    const named = f.failed
      .slice(0, NAMED_FAILURES)
      .map((x) => `${x.path} (${short(x.message || (x.reason ?? 'failed').replace(/_/g, ' '))})`);
    const more = f.failed.length > NAMED_FAILURES ? ` and ${f.failed.length - NAMED_FAILURES} more` : '';
    parts.push(`${f.failed.length} failed: ${named.join(', ')}${more}`);
  }
  if (f.held > 0) parts.push(`${plural(f.held, 'delete')} held: confirm in the YouLab app`);
  return parts.join(' · ');
}

const isHubLine = (line: string): boolean => line.trimStart().startsWith(DESCRIPTION_MARK);

/** The hub's line of a description, if it has one. */
export function hubLineOf(description: string | null | undefined): string | undefined {
  return (description ?? '').split('\n').find(isHubLine);
}

/** The description with the hub's line replaced (or added as the last line); the user's lines stay as they are. */
export function withHubLine(description: string | null | undefined, line: string): string {
  const mine = (description ?? '').split('\n').filter((l) => !isHubLine(l));
  while (mine.length > 0 && mine[mine.length - 1]!.trim() === '') mine.pop();
  return [...mine, line].join('\n');
}

/** The line without its time: a round that changed nothing rewrites the line only when this differs. */
export function withoutTime(line: string | undefined): string {
  return (line ?? '').replace(/ · \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/, '');
}
