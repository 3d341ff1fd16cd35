// Errors of the coordination layer (Redis). They map to 503 on the wire: the hub itself is
// fine, but it cannot keep its promises to other instances right now, so it refuses rather
// than act alone.
export class CoordinationUnavailableError extends Error {
  constructor(message = 'the hub cannot reach its coordination store (Redis); try again shortly') {
    super(message);
    this.name = 'CoordinationUnavailableError';
  }
}

/** A lock that could not be taken in time (another instance holds it for long). */
export class LockTimeoutError extends Error {
  constructor(readonly key: string) {
    super('the workspace is busy (another hub instance holds its lock); try again shortly');
    this.name = 'LockTimeoutError';
  }
}
