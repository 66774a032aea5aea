// haproxy.cfg and its map files on the host, written together in one command and read together:
// a proxy that (re)starts loads routes, slots and servers from them. Shell lines are pure; the
// content travels base64-encoded inside the command (a few kB), so one exec writes every file.
import { shellQuote, type ShellCommand } from '../state/shell.js';
import { MAP_FILES, type MapKind, type ProxyLayout } from './layout.js';
import { CLOSING_MAP_FILE, CONFIG_FILE, PROXY_HOST_DIR, PROXY_SOCKET_GROUP } from './paths.js';
import { renderHaproxyConfig, renderMapFiles } from './render.js';

export interface LayoutFiles {
  config: string;
  maps: Record<MapKind, string>;
}

export function renderLayoutFiles(layout: ProxyLayout): LayoutFiles {
  return { config: renderHaproxyConfig(layout), maps: renderMapFiles(layout) };
}

const KINDS: MapKind[] = ['slots', 'routes', 'catchAll'];

/**
 * Maps first, the config last, each through a temporary file and a rename: a proxy that starts
 * in between finds complete files (the config names the maps, so they must exist before it).
 * Directory and modes as writeConfigCommand (config-file.ts) says why.
 */
export function writeLayoutCommand(files: LayoutFiles, hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const dir = shellQuote(hostDir);
  const one = (name: string, content: string) => {
    const tmp = shellQuote(`${hostDir}/.${name}.tmp`);
    return `printf %s ${shellQuote(Buffer.from(content).toString('base64'))} | base64 -d > ${tmp} && chmod 640 ${tmp} && mv -f ${tmp} ${shellQuote(`${hostDir}/${name}`)}`;
  };
  return {
    command: [
      `mkdir -p ${dir} && { chgrp ${PROXY_SOCKET_GROUP} ${dir} 2>/dev/null; chmod 2770 ${dir} 2>/dev/null; true; }`,
      ...KINDS.map((k) => one(MAP_FILES[k], files.maps[k])),
      // Always empty: its key is set at runtime only, and a (re)started proxy must not close.
      one(CLOSING_MAP_FILE, ''),
      one(CONFIG_FILE, files.config),
    ].join(' && '),
  };
}

const PREFIX = 'gangway-proxy-file';

/** Each file as one line "gangway-proxy-file <name> <base64>", "-" for a missing one. */
export function readLayoutCommand(hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const names = [CONFIG_FILE, ...KINDS.map((k) => MAP_FILES[k])];
  return {
    command: names
      .map((n) => {
        const p = shellQuote(`${hostDir}/${n}`);
        return `if [ -e ${p} ]; then printf '${PREFIX} %s %s\\n' ${shellQuote(n)} "$(base64 -w0 < ${p})"; else printf '${PREFIX} %s -\\n' ${shellQuote(n)}; fi`;
      })
      .join('; '),
  };
}

export interface StoredFiles {
  config?: string;
  maps: Partial<Record<MapKind, string>>;
}

/** Pure: the host's files are exactly what `wanted` renders (config and every map). */
export function storedFilesMatch(stored: StoredFiles, wanted: LayoutFiles): boolean {
  return stored.config === wanted.config && (Object.keys(wanted.maps) as MapKind[]).every((k) => (stored.maps[k] ?? '') === wanted.maps[k]);
}

export function parseLayoutFiles(stdout: string): StoredFiles {
  const got = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^${PREFIX} (\\S+)(?: (\\S*))?$`).exec(line.trim());
    if (m && m[2] !== '-') got.set(m[1]!, Buffer.from(m[2] ?? '', 'base64').toString('utf8'));
  }
  const maps: Partial<Record<MapKind, string>> = {};
  for (const k of KINDS) {
    const text = got.get(MAP_FILES[k]);
    if (text !== undefined) maps[k] = text;
  }
  return { ...(got.has(CONFIG_FILE) ? { config: got.get(CONFIG_FILE)! } : {}), maps };
}
