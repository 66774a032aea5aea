// Runtime API lines of the map files (routes, catch-all, slots) and the parser of their
// `show map` reply. Pure, like runtime-commands.ts.
import type { MapChange } from './claims.js';
import { MAP_FILES, type MapKind } from './layout.js';
import { CLOSING_KEY, containerClosingMapPath, PROXY_CONTAINER_DIR } from './paths.js';
import type { RuntimeCommand } from './runtime-commands.js';

/** The map as HAProxy names it: the path the file loaded it from. */
export const mapRef = (kind: MapKind): string => `${PROXY_CONTAINER_DIR}/${MAP_FILES[kind]}`;

/** A proxy started from a single-service file has no such map: its reply starts with this. */
export const UNKNOWN_MAP_REPLY = 'Unknown map identifier';

// Keys and values are ours (layout.ts validates them); a space would split them, a ";" would end
// the command.
const SAFE = /^[^\s;]+$/;
function safe(what: string, v: string): string {
  if (!SAFE.test(v)) throw new Error(`map ${what} "${v}" contains a space or ";"`);
  return v;
}

export const showMap = (kind: MapKind): RuntimeCommand => ({ line: `show map ${mapRef(kind)}`, expect: { kind: 'prefixes', texts: ['0x', ''] } });

/** `add map` / `set map` / `del map`: each answers nothing when it worked. */
export function mapCommand(change: MapChange): RuntimeCommand {
  const base = `${change.op} map ${mapRef(change.kind)} ${safe('key', change.key)}`;
  const line = change.op === 'del' ? base : `${base} ${safe('value', change.value ?? '')}`;
  return { line, expect: { kind: 'empty' } };
}

/** `show map` lines are "<ref id> <key> <value>"; the value is the rest of the line. */
export function parseShowMap(reply: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of reply.split('\n')) {
    const m = /^0x[0-9a-f]+\s+(\S+)\s+(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/** A map file's text ("<key> <value>" lines, "#" comments), as HAProxy loads it. */
export function parseMapFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([^#\s]\S*)\s+(\S.*?)\s*$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * closing.map's key on or off: while it is on, every response closes its client connection
 * (render.ts, frontendLines). `add map` answers nothing; a proxy whose file predates the map
 * answers UNKNOWN_MAP_REPLY.
 */
export const closingOn = (): RuntimeCommand => ({ line: `add map ${containerClosingMapPath} ${CLOSING_KEY} on`, expect: { kind: 'empty' } });
export const closingOff = (): RuntimeCommand => ({ line: `clear map ${containerClosingMapPath}`, expect: { kind: 'empty' } });
