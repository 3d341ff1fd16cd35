// Names the hub writes into Open WebUI and reads back: pure constants, shared by the HTTP side
// (kb-steps.ts puts them into upload metadata) and the pure planning (plan.ts recognises them).

/** Marker in upload metadata that says the hub created this file. */
export const HUB_MARKER = 'youlab-hub';
