// Pure parts of the Kamal contender (kamal.ts): the deploy.yml Kamal reads, the shell line that
// takes Kamal off a host, what bench/kamal/build.sh prints, what a GET /version answer means, and
// the side-by-side verdict of the goal "gangway ahead on every phase".
import { stringify } from 'yaml';

/** The kamal-proxy version Kamal 2.12.0 requires at least; the image is pushed under this tag. */
export const KAMAL_PROXY_VERSION = 'v0.9.2';

export interface KamalDeployOptions {
  service: string;
  /** Repository of the app image in the registry, e.g. bench/hello. */
  repository: string;
  /** The registry as the hosts name it (registry:5000). */
  registry: string;
  /** Web hosts as Kamal reaches them (names on the sandbox network). */
  hosts: readonly string[];
  /** Repository of the kamal-proxy image in the same registry. */
  proxyRepository: string;
  /** The SSH key inside the Kamal container. */
  keyPath: string;
  deployTimeoutS: number;
  env: Record<string, string>;
}

/**
 * config/deploy.yml for Kamal 2.12: the web role on the given hosts behind kamal-proxy, the
 * app's /up as its health check, the proxy image from the sandbox registry (proxy.run). The
 * registry credentials are inline, not in .kamal/secrets: Kamal reads that file with the dotenv 3
 * API and Debian ships dotenv 2.4. The sandbox registry has no authentication, so they are
 * placeholders that `docker login` accepts; no real secret is written here.
 */
export function kamalDeployConfig(o: KamalDeployOptions): string {
  return stringify({
    service: o.service,
    image: o.repository,
    servers: { web: { hosts: [...o.hosts] } },
    registry: { server: o.registry, username: 'bench', password: 'bench' },
    builder: { arch: 'amd64' },
    proxy: {
      app_port: 80,
      healthcheck: { path: '/up', interval: 1, timeout: 2 },
      run: { registry: o.registry, repository: o.proxyRepository, version: KAMAL_PROXY_VERSION },
    },
    ssh: { user: 'root', keys_only: true, keys: [o.keyPath], config: false },
    env: { clear: o.env },
    deploy_timeout: o.deployTimeoutS,
  });
}

/**
 * One shell line that leaves a host with nothing of Kamal's: its proxy (by name), the service's
 * app containers (by the `service` label Kamal sets), its network and its state under ~/.kamal.
 */
export function kamalCleanupCommand(service: string): string {
  return [
    'docker rm -f kamal-proxy >/dev/null 2>&1',
    `ids=$(docker ps -aq --filter label=service=${service})`,
    '[ -n "$ids" ] && docker rm -f $ids >/dev/null',
    'docker network rm kamal >/dev/null 2>&1',
    'rm -rf /root/.kamal',
    'true',
  ].join('; ');
}

export interface KamalImages {
  tools: string;
  proxy: string;
}

/** The two tags bench/kamal/build.sh names on its last stdout lines (tools=..., proxy=...). */
export function parseBuildOutput(stdout: string): KamalImages {
  const tagOf = (key: string) => [...stdout.matchAll(new RegExp(`^${key}=(\\S+)$`, 'gm'))].pop()?.[1];
  const tools = tagOf('tools');
  const proxy = tagOf('proxy');
  if (!tools || !proxy) throw new Error(`bench/kamal/build.sh did not name both images (expected lines tools=<tag> and proxy=<tag>), it printed: ${stdout.trim().slice(-300) || 'nothing'}`);
  return { tools, proxy };
}

export type VersionAnswer = 'right' | 'wrong' | 'failed';

/**
 * What a user asking GET /version got: the version the app was built as (right), a 2xx with
 * anything else (wrong: the release that fails its uptests answers "unknown"), or no 2xx at all.
 */
export function classifyVersionAnswer(status: number, body: string): VersionAnswer {
  if (status < 200 || status > 299) return 'failed';
  return /^\d+\.\d+\.\d+$/.test(body.trim()) ? 'right' : 'wrong';
}

export interface ToolPhase {
  wallMs: number;
  /** Failed requests of the load (non-2xx, socket errors, bad bodies). */
  failed: number;
  /** GET /version answered 2xx with a wrong body (what a release that fails its uptests serves). */
  wrong: number;
  p99Ms: number;
}

export interface Verdict {
  phase: string;
  gangway: ToolPhase;
  kamal: ToolPhase;
  ahead: boolean;
  why: string;
}

/**
 * The goal, per phase: gangway is ahead when it took less wall time and its users got no more
 * failed or wrong answers than Kamal's (equal counts, 0 and 0 included, do not count against it).
 */
export function verdict(phase: string, gangway: ToolPhase, kamal: ToolPhase): Verdict {
  const bad = (t: ToolPhase) => t.failed + t.wrong;
  const faster = gangway.wallMs < kamal.wallMs;
  const noWorse = bad(gangway) <= bad(kamal);
  const reasons = [
    faster ? `${s1(gangway.wallMs)} s < ${s1(kamal.wallMs)} s` : `slower: ${s1(gangway.wallMs)} s ≥ ${s1(kamal.wallMs)} s`,
    noWorse ? `${bad(gangway)} ≤ ${bad(kamal)} failed or wrong` : `more failed or wrong: ${bad(gangway)} > ${bad(kamal)}`,
  ];
  return { phase, gangway, kamal, ahead: faster && noWorse, why: reasons.join('; ') };
}

const s1 = (ms: number) => (ms / 1000).toFixed(1);

export function verdictTable(rows: Verdict[]): string {
  return [
    '| phase | gangway wall s | Kamal wall s | gangway failed + wrong /version | Kamal failed + wrong /version | gangway p99 ms | Kamal p99 ms | gangway ahead? |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.phase} | ${s1(r.gangway.wallMs)} | ${s1(r.kamal.wallMs)} | ${r.gangway.failed} + ${r.gangway.wrong} | ${r.kamal.failed} + ${r.kamal.wrong} | ${r.gangway.p99Ms.toFixed(0)} | ${r.kamal.p99Ms.toFixed(0)} | ${r.ahead ? 'yes' : '**no**'} (${r.why}) |`),
  ].join('\n');
}
