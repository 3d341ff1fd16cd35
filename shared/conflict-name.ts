// Conflict copy name from docs/SYNC-SPEC.md: `<stem> (conflict <device> <YYYY-MM-DD HHMMSS>)<ext>`.

const CONFLICT_MARK = /\(conflict [^()]* \d{4}-\d{2}-\d{2} \d{6}\)/;

export function conflictCopyName(path: string, device: string, when: Date): string {
  const slash = path.lastIndexOf('/');
  const dir = slash >= 0 ? path.slice(0, slash + 1) : '';
  const name = path.slice(slash + 1);
  // A leading dot is part of the stem (".bashrc"), not an extension.
  const dot = name.lastIndexOf('.');
  const hasExt = dot > 0;
  const stem = hasExt ? name.slice(0, dot) : name;
  const ext = hasExt ? name.slice(dot) : '';
  // eslint-disable-next-line no-control-regex -- device names must not smuggle control chars into file names
  const safeDevice = device.replace(/[()/\\\u0000-\u001f]/g, '-').trim() || 'device';
  return `${dir}${stem} (conflict ${safeDevice} ${stamp(when)})${ext}`;
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`
  );
}

/**
 * A conflict copy name that `taken` does not hold. The name carries the time to the second, so
 * two conflicts at one path within one second would share it, and the second copy would replace
 * the first (a rename overwrites): the stamp moves on a second at a time until the name is free.
 */
export function freeConflictCopyName(path: string, device: string, when: Date, taken: (name: string) => boolean): string {
  for (let s = 0; ; s++) {
    const name = conflictCopyName(path, device, new Date(when.getTime() + s * 1000));
    if (!taken(name)) return name;
  }
}

export function isConflictCopy(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return CONFLICT_MARK.test(name);
}

/** The path a conflict copy belongs to, or undefined when it is not one. */
export function originalOfConflictCopy(path: string): string | undefined {
  if (!isConflictCopy(path)) return undefined;
  return path.replace(/ \(conflict [^()]* \d{4}-\d{2}-\d{2} \d{6}\)/, '');
}
