// What the bench measured, and how it is shown: one console table side by side with the ratio of
// our tool to each reference tool, the same table in markdown for docs/PERFORMANCE.md, and JSON.
import { max, median, min, quantile } from './stats.ts';

export const COLUMNS = ['rsync', 'unison', 'syncthing', 'syncthing-1s', 'youlab'] as const;
/** The knowledge-base section's table: Open WebUI's own sync tool beside the hub. */
export const KB_COLUMNS = ['oikb', 'youlab'] as const;
export type Column = (typeof COLUMNS)[number] | (typeof KB_COLUMNS)[number];
export const REFERENCES = ['rsync', 'unison', 'syncthing', 'syncthing-1s'] as const satisfies readonly Column[];

/** Which tools a table shows, and which of them our figures are divided by. */
export interface Layout {
  columns: readonly Column[];
  references: readonly Column[];
}
export const FILES_LAYOUT: Layout = { columns: COLUMNS, references: REFERENCES };
export const KB_LAYOUT: Layout = { columns: KB_COLUMNS, references: ['oikb'] };

/** A measured quantity: samples of one thing, from one tool. */
export interface Series {
  key: string;
  column: Column;
  samples: number[];
  note?: string;
}

export interface Gap {
  key: string;
  column: Column;
  reason: string;
}

export interface RowDef {
  label: string;
  key: string;
  unit: string;
  stat: 'median' | 'p50' | 'p95';
  /** Reference series to compare our figure with, when it is measured under another key. */
  refKey?: string;
  better: 'lower' | 'higher';
}

export function rowDefs(treeNames: { mixed: string; many: string }): RowDef[] {
  const r = (label: string, key: string, unit: string, stat: RowDef['stat'], better: RowDef['better'], refKey?: string): RowDef => ({
    label,
    key,
    unit,
    stat,
    better,
    refKey,
  });
  return [
    r(`first sync ${treeNames.mixed}: wall`, 'first.mixed.s', 's', 'median', 'lower'),
    r(`first sync ${treeNames.mixed}: throughput`, 'first.mixed.MBps', 'MB/s', 'median', 'higher'),
    r(`first sync ${treeNames.mixed}: files/s`, 'first.mixed.fps', 'files/s', 'median', 'higher'),
    r(`first sync ${treeNames.many}: wall`, 'first.many.s', 's', 'median', 'lower'),
    r(`first sync ${treeNames.many}: throughput`, 'first.many.MBps', 'MB/s', 'median', 'higher'),
    r(`first sync ${treeNames.many}: files/s`, 'first.many.fps', 'files/s', 'median', 'higher'),
    r(`no-change round ${treeNames.mixed}`, 'nochange.mixed.ms', 'ms', 'median', 'lower'),
    r(`no-change round ${treeNames.many}`, 'nochange.many.ms', 'ms', 'median', 'lower'),
    r(`hub: conditional listing answered 304, ${treeNames.mixed}`, 'nochange.mixed.hub304.ms', 'ms', 'median', 'lower'),
    r(`hub: conditional listing answered 304, ${treeNames.many}`, 'nochange.many.hub304.ms', 'ms', 'median', 'lower'),
    r('propagation folder A -> folder B: p50', 'prop.ab.ms', 'ms', 'p50', 'lower'),
    r('propagation folder A -> folder B: p95', 'prop.ab.ms', 'ms', 'p95', 'lower'),
    r('propagation local -> hub: p50', 'prop.up.ms', 'ms', 'p50', 'lower', 'prop.ab.ms'),
    r('propagation local -> hub: p95', 'prop.up.ms', 'ms', 'p95', 'lower', 'prop.ab.ms'),
    r('propagation agent write -> local: p50', 'prop.agent.ms', 'ms', 'p50', 'lower', 'prop.ab.ms'),
    r('propagation agent write -> local: p95', 'prop.agent.ms', 'ms', 'p95', 'lower', 'prop.ab.ms'),
    r(`peak RSS, first sync ${treeNames.mixed}`, 'rss.first.mixed.MiB', 'MiB', 'median', 'lower'),
    r(`peak RSS, watching ${treeNames.mixed} (per process)`, 'rss.watch.MiB', 'MiB', 'median', 'lower'),
    r('peak RSS, hub serving 100 users', 'rss.hub100.MiB', 'MiB', 'median', 'lower'),
    r('hub: 100 users, a few requests each: wall', 'hub100.s', 's', 'median', 'lower'),
  ];
}

/** Keys of the knowledge-base section for a tree of `n` notes. */
export const kbKeys = (n: number) => ({ first: `kb.first.${n}.s`, nochange: `kb.nochange.${n}.ms`, edit: `kb.edit.${n}.ms` });

/** The knowledge-base section's rows (issue 12), per note count. */
export function kbRowDefs(notes: number[]): RowDef[] {
  return notes.flatMap((n) => {
    const k = kbKeys(n);
    const name = `${n.toLocaleString('en-US')} notes`;
    return [
      { label: `KB first sync, ${name}: files in place -> all listed`, key: k.first, unit: 's', stat: 'median', better: 'lower' },
      { label: `KB no-change round, ${name}`, key: k.nochange, unit: 'ms', stat: 'median', better: 'lower' },
      { label: `KB one changed file -> new content listed, ${name}: p50`, key: k.edit, unit: 'ms', stat: 'p50', better: 'lower' },
      { label: `KB one changed file -> new content listed, ${name}: p95`, key: k.edit, unit: 'ms', stat: 'p95', better: 'lower' },
    ] satisfies RowDef[];
  });
}

export class Results {
  readonly series: Series[] = [];
  readonly gaps: Gap[] = [];
  readonly notes: string[] = [];
  readonly extra: Record<string, unknown> = {};

  add(key: string, column: Column, samples: number[], note?: string): void {
    const existing = this.series.find((s) => s.key === key && s.column === column);
    if (existing) existing.samples.push(...samples);
    else this.series.push({ key, column, samples: [...samples], note });
  }

  gap(key: string, column: Column, reason: string): void {
    if (!this.gaps.some((g) => g.key === key && g.column === column)) this.gaps.push({ key, column, reason });
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  get(key: string, column: Column): Series | undefined {
    return this.series.find((s) => s.key === key && s.column === column);
  }
}

function statOf(s: number[], stat: RowDef['stat']): number {
  return stat === 'p95' ? quantile(s, 0.95) : stat === 'p50' ? quantile(s, 0.5) : median(s);
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const a = Math.abs(n);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell(s: Series | undefined, def: RowDef, gap: Gap | undefined): string {
  if (!s || s.samples.length === 0) return gap ? 'n/a' : '';
  const v = statOf(s.samples, def.stat);
  const n = s.samples.length;
  if (def.stat === 'median' && n > 1) return `${fmt(v)} (${fmt(min(s.samples))}–${fmt(max(s.samples))})`;
  if (def.stat === 'p50') return `${fmt(v)} (n=${n})`;
  if (def.stat === 'p95') return `${fmt(v)} (max ${fmt(max(s.samples))})`;
  return fmt(v);
}

function ratio(ours: Series | undefined, ref: Series | undefined, def: RowDef): string {
  if (!ours?.samples.length || !ref?.samples.length) return '';
  const r = statOf(ours.samples, def.stat) / statOf(ref.samples, def.stat);
  return Number.isFinite(r) ? `${fmt(r)}×` : '';
}

export interface Table {
  header: string[];
  rows: string[][];
  footnotes: string[];
  /** Leading columns always shown (figure, unit, the tools); the ratio columns after them may be dropped. */
  fixed: number;
}

export function buildTable(res: Results, defs: RowDef[], layout: Layout = FILES_LAYOUT): Table {
  const { columns, references } = layout;
  const header = ['figure', 'unit', ...columns, ...references.map((r) => `youlab ÷ ${r}`)];
  const rows: string[][] = [];
  const footnotes: string[] = [];
  const mark = (text: string) => {
    let i = footnotes.indexOf(text);
    if (i < 0) i = footnotes.push(text) - 1;
    return `[${i + 1}]`;
  };
  for (const def of defs) {
    const cells = columns.map((c) => {
      const key = c === 'youlab' ? def.key : (def.refKey ?? def.key);
      const s = res.get(key, c);
      const gap = res.gaps.find((g) => g.key === key && g.column === c);
      let text = cell(s, def, gap);
      if (s?.note && s.samples.length) text += ` ${mark(s.note)}`;
      if (!s?.samples.length && gap) text += ` ${mark(gap.reason)}`;
      if (def.refKey && c !== 'youlab' && text) text += ' (A→B)';
      return text;
    });
    if (cells.every((c) => c === '')) continue;
    const ours = res.get(def.key, 'youlab');
    const ratios = references.map((r) => ratio(ours, res.get(def.refKey ?? def.key, r), def));
    rows.push([def.label, def.unit, ...cells, ...ratios]);
  }
  return { header, rows, footnotes, fixed: 2 + columns.length };
}

/** Ratio columns that are empty in every row (our tool not measured yet) are left out. */
function withoutEmptyRatios(t: Table): Table {
  const keep = t.header.map((_, i) => i < t.fixed || t.rows.some((r) => r[i] !== ''));
  return { header: t.header.filter((_, i) => keep[i]), rows: t.rows.map((r) => r.filter((_, i) => keep[i])), footnotes: t.footnotes, fixed: t.fixed };
}

export function renderText(table: Table): string {
  const t = withoutEmptyRatios(table);
  const { header, rows } = t;
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd();
  const out = [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  if (t.footnotes.length) out.push('', ...t.footnotes.map((f, i) => `[${i + 1}] ${f}`));
  return out.join('\n');
}

export function renderMarkdown(table: Table): string {
  const t = withoutEmptyRatios(table);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [
    `| ${t.header.map(esc).join(' | ')} |`,
    `|${t.header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  if (t.footnotes.length) out.push('', ...t.footnotes.map((f, i) => `${i + 1}. ${esc(f)}`));
  return out.join('\n');
}
