// Turns the config.xml that `syncthing generate` wrote into a loopback-only one, before the first
// start: every outside contact is switched off, and the two devices know each other by a static
// tcp://127.0.0.1 address. Pure string work so it can be read and checked at a glance.

export interface PeerConfig {
  selfId: string;
  selfName: string;
  listenPort: number;
  guiPort: number;
  apiKey: string;
  peer: { id: string; name: string; port: number };
  folder: { id: string; path: string; watcherDelayS: number };
}

/** Options that would make Syncthing reach beyond 127.0.0.1, and what they become. */
export const LOOPBACK_OPTIONS: Record<string, string> = {
  globalAnnounceEnabled: 'false',
  globalAnnounceServer: '',
  localAnnounceEnabled: 'false',
  relaysEnabled: 'false',
  natEnabled: 'false',
  urAccepted: '-1',
  urSeen: '3',
  urURL: 'http://127.0.0.1:9/',
  autoUpgradeIntervalH: '0',
  releasesURL: 'http://127.0.0.1:9/',
  crashReportingEnabled: 'false',
  crashReportingURL: 'http://127.0.0.1:9/',
  startBrowser: 'false',
  // STUN only runs with NAT traversal; zero keepalives disable it outright as well.
  stunKeepaliveStartS: '0',
  stunKeepaliveMinS: '0',
  announceLANAddresses: 'false',
  restartOnWakeup: 'false',
  // Compete for CPU on equal terms with the other tools (the default lowers its priority).
  setLowPriority: 'false',
};

export function deviceIdOf(generatedXml: string): string {
  const m = /<device id="([A-Z0-9-]{63})"/.exec(generatedXml);
  if (!m) throw new Error('no device id in generated config.xml');
  return m[1]!;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function setOption(xml: string, name: string, value: string): string {
  const re = new RegExp(`<${name}>[^<]*</${name}>`);
  const el = `<${name}>${xmlEscape(value)}</${name}>`;
  return re.test(xml) ? xml.replace(re, el) : xml.replace('</options>', `    ${el}\n    </options>`);
}

function device(id: string, name: string, port: number): string {
  return [
    `    <device id="${id}" name="${xmlEscape(name)}" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">`,
    `        <address>tcp://127.0.0.1:${port}</address>`,
    '        <paused>false</paused>',
    '        <autoAcceptFolders>false</autoAcceptFolders>',
    '    </device>',
  ].join('\n');
}

export function loopbackConfig(generatedXml: string, c: PeerConfig): string {
  let xml = generatedXml;
  for (const [k, v] of Object.entries(LOOPBACK_OPTIONS)) xml = setOption(xml, k, v);
  xml = setOption(xml, 'listenAddress', `tcp://127.0.0.1:${c.listenPort}`);
  xml = xml.replace(/<gui [^>]*>[\s\S]*?<\/gui>/, [
    '<gui enabled="true" tls="false" debugging="false">',
    `        <address>127.0.0.1:${c.guiPort}</address>`,
    `        <apikey>${xmlEscape(c.apiKey)}</apikey>`,
    '        <theme>default</theme>',
    '    </gui>',
  ].join('\n'));
  // Replace the generated self device (address "dynamic") and add the peer and the folder.
  xml = xml.replace(/^ {4}<device id="[^"]+"[^>]*>[\s\S]*?<\/device>\n/m, '');
  const folder = [
    `    <folder id="${c.folder.id}" label="${c.folder.id}" path="${xmlEscape(c.folder.path)}" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="${c.folder.watcherDelayS}" ignorePerms="false" autoNormalize="true">`,
    '        <filesystemType>basic</filesystemType>',
    `        <device id="${c.selfId}" introducedBy=""></device>`,
    `        <device id="${c.peer.id}" introducedBy=""></device>`,
    '        <minDiskFree unit="%">1</minDiskFree>',
    '        <markerName>.stfolder</markerName>',
    '    </folder>',
  ].join('\n');
  const block = [folder, device(c.selfId, c.selfName, c.listenPort), device(c.peer.id, c.peer.name, c.peer.port)].join('\n');
  xml = xml.replace(/(<configuration[^>]*>\n)/, `$1${block}\n`);
  return xml;
}
