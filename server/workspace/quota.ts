// Quota arithmetic: replacing a file frees its old size before the new one counts.
export function wouldExceedQuota(args: { usedBytes: number; replacedBytes: number; newBytes: number; quotaBytes: number }): boolean {
  const after = args.usedBytes - args.replacedBytes + args.newBytes;
  // Shrinking or same-size writes are always allowed, so an over-quota workspace can be cleaned up.
  if (args.newBytes <= args.replacedBytes) return false;
  return after > args.quotaBytes;
}
