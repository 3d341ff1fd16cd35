// `youlab-sync kb-status`: the hub's knowledge-base leg for this workspace, as the desktop app's
// "Knowledge base" section shows it (counts, last round, failed files with Open WebUI's reason and
// what to do, deletes the guard holds). Fetching is here; the text is a pure function of the answer.
import { kbCounts, kbWhatToDo } from '../shared/kb-advice.ts';
import type { KbFileStatus, KbStatus } from '../shared/kb-status.ts';
import type { HubClient } from './sync/hub-client.ts';

/** Every page of the answer (of some states only), files joined into one list. */
export async function fetchKbStatus(hub: HubClient, states?: readonly string[]): Promise<KbStatus> {
  let first: KbStatus | undefined;
  const files: KbFileStatus[] = [];
  for (let offset = 0, pages = 0; pages < 10_000; pages++) {
    const page = await hub.kbStatus({ ...(states ? { states } : {}), offset, limit: 5000 });
    first ??= page;
    files.push(...page.files);
    if (page.next_offset === undefined || page.next_offset === null || page.next_offset <= offset) break;
    offset = page.next_offset;
  }
  return { ...first!, files, ...(first!.next_offset !== undefined ? { offset: 0, next_offset: null } : {}) };
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The report's lines for an answer holding (at least) the failed and held files. */
export function kbReport(s: KbStatus): string[] {
  if (!s.openwebui.configured) return [`the hub does not sync a knowledge base: ${s.openwebui.reason ?? 'Open WebUI is not configured'}`];
  const c = kbCounts(s);
  const out = [
    `knowledge base ${s.knowledge_name ?? ''}${s.knowledge_id ? ` (${s.knowledge_id})` : ' (not created yet)'}, Open WebUI ${s.openwebui.version ?? 'unreachable'}`,
    `${c.synced} synced · ${c.pending} pending · ${c.processing} processing · ${c.failed} failed · ${c.ignored} ignored · ${c.held} held (of ${c.total})`,
  ];
  const r = s.last_round;
  if (s.running) out.push('a round is running now');
  if (r) out.push(`last round ${r.finished_at} (${r.direction}, ${seconds(r.duration_ms)}): ${r.outcome}${r.error ? `: ${r.error}` : ''}${r.changed ? '' : ', nothing changed'}`);
  else out.push(`last sync ${s.last_sync ?? 'never'}`);
  const failed = s.files.filter((f) => f.state === 'failed');
  if (failed.length > 0) out.push('failed:');
  for (const f of failed) {
    const tries = f.attempts ? ` (${f.attempts} attempt${f.attempts === 1 ? '' : 's'}${f.next_retry_at ? `, next retry ${f.next_retry_at}` : ''})` : '';
    out.push(`  ${f.path}\t${f.reason ?? 'error'}: ${f.message ?? ''}${tries}`, `    what to do: ${kbWhatToDo(f)}`);
  }
  const held = s.files.filter((f) => f.state === 'held');
  if (held.length > 0) {
    out.push(`held by the mass-delete guard: ${s.guard ?? held[0]!.message ?? ''}`);
    for (const f of held) out.push(`  ${f.path}\t${f.action ?? 'delete'}${f.rule ? ` (${f.rule})` : ''}`);
    out.push(`  what to do: ${kbWhatToDo(held[0]!)} To confirm: youlab-sync kb-status --confirm-deletes`);
  }
  return out;
}
