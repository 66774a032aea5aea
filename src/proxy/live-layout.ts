// The host's whole proxy as it is: every slot's owner, settings and servers and every route,
// read from the running proxy (or, when it does not answer, from the files gangway wrote). What
// the conflict check and the file sync work from, so neither sees only its own service.
import { parseLegacyConfig } from './legacy.js';
import { parseLayoutFiles, readLayoutCommand, type StoredFiles } from './layout-files.js';
import { layoutFrom, layoutFromLegacy } from './layout-state.js';
import { isSlotName, type MapKind, type ProxyLayout } from './layout.js';
import { parseRenderedBackends } from './render.js';
import * as cmd from './runtime-commands.js';
import { mapRef, parseMapFile, parseShowMap, showMap, UNKNOWN_MAP_REPLY } from './runtime-maps.js';
import { liveServers, parseServersState, parseStat } from './runtime-parse.js';
import { dirOf, ownerOfTarget, proxyError, runtimeApi, type ProxyTarget } from './target.js';
import { legacyBackendName, type LiveServer } from './types.js';

/** `legacy`: the running proxy loaded a single-service file (no maps). */
export type LiveLayout = { kind: 'shared'; layout: ProxyLayout; servers: Map<string, LiveServer[]> } | { kind: 'legacy'; servers: Map<string, LiveServer[]> };

const KINDS: MapKind[] = ['slots', 'routes', 'catchAll'];

const SERVER_READS = [cmd.showServersState(), cmd.showStat()];

/** Every backend's servers, as the runtime reports them (one round trip). */
export async function readAllServers(t: ProxyTarget): Promise<Map<string, LiveServer[]>> {
  const [state, stat] = await runtimeApi(t).runBatch(SERVER_READS);
  return serversOfReplies(state!, stat!);
}

function serversOfReplies(stateReply: string, statReply: string): Map<string, LiveServer[]> {
  const state = parseServersState(stateReply);
  const stats = parseStat(statReply);
  const backends = [...new Set(state.map((r) => r.backend))];
  return new Map(backends.map((b) => [b, liveServers(b, state, stats)]));
}

/**
 * The maps and every server in one round trip (a batch): what each wait polls, so a poll costs
 * one forwarded connection, not five.
 */
export async function readLiveLayout(t: ProxyTarget): Promise<LiveLayout> {
  const api = runtimeApi(t);
  const replies = await api.sendBatch([...KINDS.map((kind) => showMap(kind).line), ...SERVER_READS.map((c) => c.line)]);
  const mapReplies = replies.slice(0, KINDS.length);
  const [stateReply, statReply] = SERVER_READS.map((c, i) => api.judge(c, replies[KINDS.length + i]!));
  const servers = serversOfReplies(stateReply!, statReply!);
  if (mapReplies.some((r) => r.startsWith(UNKNOWN_MAP_REPLY))) return { kind: 'legacy', servers };
  mapReplies.forEach((reply, i) => {
    if (reply.trim() !== '' && !reply.startsWith('0x')) throw proxyError(t, `HAProxy refused "show map ${mapRef(KINDS[i]!)}": ${reply.trim().split('\n')[0]}`);
  });
  const [slots, routes, catchAll] = mapReplies.map(parseShowMap) as [Map<string, string>, Map<string, string>, Map<string, string>];
  const slotServers = new Map([...servers].filter(([b]) => isSlotName(b)));
  return { kind: 'shared', layout: layoutFrom({ maps: { slots, routes, catchAll }, servers: slotServers }), servers };
}

export async function readStoredFiles(t: ProxyTarget): Promise<StoredFiles> {
  const r = await t.host.exec(readLayoutCommand(dirOf(t)).command);
  if (r.code !== 0) throw proxyError(t, `cannot read the proxy's files: ${r.stderr.trim()}`);
  return parseLayoutFiles(r.stdout);
}

/** The layout the files on the host describe; a single-service file becomes its shared equivalent. */
export function layoutOfFiles(files: StoredFiles, t: ProxyTarget): ProxyLayout | undefined {
  if (files.config === undefined) return undefined;
  const legacy = parseLegacyConfig(files.config);
  if (legacy) return layoutFromLegacy(legacy, { appPort: t.appPort });
  const maps = Object.fromEntries(KINDS.map((k) => [k, parseMapFile(files.maps[k] ?? '')])) as Record<MapKind, Map<string, string>>;
  return layoutFrom({ maps, servers: parseRenderedBackends(files.config) });
}

/**
 * What the host's proxy holds now: the runtime's when it answers (a single-service runtime read
 * with the checks of its file), else the files'. Undefined: nothing yet (a fresh host).
 */
export async function currentLayout(t: ProxyTarget, running: boolean): Promise<{ layout?: ProxyLayout; legacyRuntime: boolean; liveServers?: Map<string, LiveServer[]> }> {
  if (running) {
    try {
      const live = await readLiveLayout(t);
      if (live.kind === 'shared') return { layout: live.layout, legacyRuntime: false, liveServers: live.servers };
      const files = await readStoredFiles(t);
      const legacy = files.config !== undefined ? parseLegacyConfig(files.config) : undefined;
      if (legacy) {
        const servers = (live.servers.get(legacy.backend) ?? []).map(({ name, address, port, state }) => ({ name, address, port, state }));
        return { layout: layoutFromLegacy({ ...legacy, servers }, { appPort: t.appPort }), legacyRuntime: true, liveServers: live.servers };
      }
      return { layout: layoutOfFiles(files, t), legacyRuntime: true, liveServers: live.servers };
    } catch {
      // A running container whose socket does not answer: fall back to the files.
    }
  }
  return { layout: layoutOfFiles(await readStoredFiles(t), t), legacyRuntime: false };
}

/**
 * The backend that carries this target's servers: its slot on a shared proxy, `be_<service>` on
 * a proxy still on the single-service layout, undefined when it has none on this host yet.
 */
export async function backendOfLive(t: ProxyTarget, live?: LiveLayout): Promise<string | undefined> {
  const l = live ?? (await readLiveLayout(t));
  if (l.kind === 'legacy') return l.servers.has(legacyBackendName(t.service)) ? legacyBackendName(t.service) : undefined;
  return l.layout.slots.find((s) => s.settings?.owner === ownerOfTarget(t))?.backend;
}
