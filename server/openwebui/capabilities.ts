// What an Open WebUI release offers the hub, decided from its version (pure). The contract matrix
// (scripts/contract-matrix.sh) checks each threshold against real releases from PyPI; the table
// is in docs/OPENWEBUI-API.md "Version differences". Routes that a release lacks are also probed
// at run time (client.ts): a real server answers an unknown GET route with its web page, so a
// version below a threshold is the first guard and the probe the second.

/** The oldest release the contract matrix checks; older ones are refused with a clear error. */
export const OLDEST_SUPPORTED = '0.6.30';
/** The newest release the contract matrix checks (newer ones are tried, and warned about). */
export const NEWEST_CHECKED = '0.12.4';

export interface Capabilities {
  version: string;
  /** `GET /knowledge/{id}/files`, paged (0.6.42); before, the KB record inlines its files. */
  knowledgeFilesRoute: boolean;
  /** `GET /files/{id}/process/status` (0.6.23); before, `data.status` of the file record. */
  processStatusRoute: boolean;
  /** `access_grants` on create (0.8.0); before, `access_control`. */
  accessGrants: boolean;
  /** KB folders, `directory_id` on add, `directory_path` on listings (0.9.6). */
  directories: boolean;
  /**
   * The quick upload path (0.12.4): processing inside the upload request, `files/batch/add`,
   * `/files/search`, and `DELETE /files/{id}` that unlinks the file from its KBs. Before, a client
   * disconnect could cancel processing half-way, which the hub cannot tell from a slow file.
   */
  quickUploads: boolean;
}

export const THRESHOLDS = {
  processStatusRoute: '0.6.23',
  knowledgeFilesRoute: '0.6.42',
  accessGrants: '0.8.0',
  directories: '0.9.6',
  quickUploads: '0.12.4',
} as const;

export function capabilitiesFor(version: string): Capabilities {
  const at = (min: string): boolean => versionAtLeast(version, min);
  return {
    version,
    knowledgeFilesRoute: at(THRESHOLDS.knowledgeFilesRoute),
    processStatusRoute: at(THRESHOLDS.processStatusRoute),
    accessGrants: at(THRESHOLDS.accessGrants),
    directories: at(THRESHOLDS.directories),
    quickUploads: at(THRESHOLDS.quickUploads),
  };
}

/** Whether the hub supports this release: undefined if so, else why not. */
export function unsupportedReason(version: string): string | undefined {
  if (!/^\d+\.\d+\.\d+/.test(version)) return undefined; // a dev build: go by the routes
  if (!versionAtLeast(version, OLDEST_SUPPORTED)) {
    return `Open WebUI ${version} is older than the oldest supported release (${OLDEST_SUPPORTED}); upgrade Open WebUI`;
  }
  return undefined;
}

export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split(/[.+-]/).map((x) => parseInt(x, 10) || 0);
  const b = min.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}
