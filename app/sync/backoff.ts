// Exponential backoff with jitter for reconnects, so many clients do not retry in step.
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs = 1_000,
    private readonly maxMs = 60_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay: min * 2^attempt, capped, scaled by a random factor in [0.5, 1). */
  next(): number {
    const raw = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(raw * (0.5 + this.random() * 0.5));
  }

  reset(): void {
    this.attempt = 0;
  }
}
