// Feed cursors: `<epoch>:<seq>`. The epoch is random per hub start, so a cursor from an
// earlier run is recognisably stale and the client is told to list again.
export interface Cursor {
  epoch: string;
  seq: number;
}

export function formatCursor(c: Cursor): string {
  return `${c.epoch}:${c.seq}`;
}

export function parseCursor(s: unknown): Cursor | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^([0-9a-z]{1,32}):(0|[1-9][0-9]{0,15})$/.exec(s);
  if (!m) return undefined;
  const seq = Number(m[2]);
  if (!Number.isSafeInteger(seq)) return undefined;
  return { epoch: m[1]!, seq };
}
