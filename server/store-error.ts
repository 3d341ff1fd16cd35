// The store's refusals, in a module of their own below every hub layer. The workspace store
// (workspace/) throws them, the HTTP layer (http/: the error handler, raw-URL path checks) maps
// them to statuses, and features (openwebui/) catch them; none of these may import the others'
// folders the wrong way, so the class lives in neither. It imports nothing from the hub.

/** Thrown by the store; the HTTP layer maps `code` to a status (shared/protocol.ts ERROR_STATUS). */
export class StoreError extends Error {
  constructor(
    readonly code:
      | 'bad_path'
      | 'not_found'
      | 'precondition_failed'
      | 'hash_mismatch'
      | 'too_large'
      | 'quota_exceeded'
      | 'conflict',
    message: string,
  ) {
    super(message);
  }
}
