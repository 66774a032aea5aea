// The health gate of a deploy's new container: from the proxy's side for a proxied role (its HTTP
// check must pass) and from Docker's (the image's HEALTHCHECK, or: still running after a settle
// time), raced so that whichever fails first decides. Ends the `health` step with the container's
// last log lines on failure.
import { containerLogsTail } from '../app/container.js';
import { messageOf } from '../errors.js';
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import { addressOn } from '../proxy/addresses.js';
import { addCandidateBeforeSync } from '../proxy/runtime-operations.js';
import { networkOf, type ProxyTarget } from '../proxy/target.js';
import { waitHealthy } from '../proxy/waits.js';
import type { GateResult } from './gate.js';
import { containerGateFor } from './gates.js';

/** How long a container without HEALTHCHECK must stay up, for roles the proxy does not check. */
const SETTLE_UNPROXIED_MS = 3000;
/** For proxied roles the proxy's HTTP check is the real gate; this only catches an early exit. */
const SETTLE_PROXIED_MS = 1000;
/**
 * Fallback poll of the container gates: Docker's events (health_status, die) and gangway's own
 * run of the image's HEALTHCHECK wake the gate at once; this only covers an event stream that
 * dropped. Each poll is an Engine API request per host.
 */
const HEALTH_POLL_MS = 1000;
const LOG_LINES_ON_FAILURE = 30;

/** One new container to gate, and where. */
export interface ProxiedHealthInput {
  host: Host;
  /** The host's name in events (the name the deploy knows it by). */
  hostName: string;
  role: string;
  container: string;
  /** The proxy that must see it healthy; undefined for a role the proxy does not route. */
  proxy: ProxyTarget | undefined;
  /** deploy_timeout: how long both checks may take. */
  timeoutMs: number;
  events: Events;
  signal: AbortSignal;
  /**
   * Called once the container is in the proxy (at once for an unproxied role): work that may
   * overlap the health wait starts here, not before, so it does not delay the proxy's first check.
   */
  onChecking?: () => void;
}

/**
 * Health, from the proxy's side for proxied roles (its HTTP check must pass) and from Docker's
 * (the image's HEALTHCHECK, or: still running after a settle time). A container that dies fails
 * at once, with its last log lines, instead of waiting out the deploy timeout.
 */
export async function proxiedHealthGate(g: ProxiedHealthInput): Promise<GateResult> {
  const { host, events, signal } = g;
  const ev = { host: g.hostName, role: g.role };
  const t0 = Date.now();
  events.step('health', 'start', { ...ev, message: g.container });
  const docker = await host.docker();
  const info = await docker.getContainer(g.container).inspect();
  // A proxied container's image HEALTHCHECK is also run by gangway: once as soon as the proxy
  // checks it, again once a proxy check passed, the app answering (see dockerHealthGate's ownCheck).
  let proxyChecks: () => void = () => {};
  let proxyPassed: () => void = () => {};
  const ownCheck = g.proxy
    ? { first: new Promise<void>((resolve) => { proxyChecks = resolve; }), retry: new Promise<void>((resolve) => { proxyPassed = resolve; }), info }
    : undefined;
  let checked = false;
  const checking = () => {
    if (checked) return;
    checked = true;
    g.onChecking?.();
    proxyChecks();
  };
  const containerGate = containerGateFor(info, { timeoutMs: g.timeoutMs, pollIntervalMs: HEALTH_POLL_MS, settleMs: Math.min(g.proxy ? SETTLE_PROXIED_MS : SETTLE_UNPROXIED_MS, g.timeoutMs), ...(ownCheck ? { ownCheck } : {}) });
  const local = new AbortController();
  const relay = () => local.abort();
  signal.addEventListener('abort', relay, { once: true });
  try {
    const containerCheck = containerGate.check({ host, container: g.container, role: g.role }, { events, signal: local.signal });
    let result: GateResult;
    if (!g.proxy) {
      checking();
      result = await containerCheck;
    } else {
      const pt = g.proxy;
      // The candidate's line in the proxy's file is written while the proxy checks it: the
      // gate passes only once both are done.
      let fileSync: Promise<void>;
      try {
        // Its address from the inspect above (a container's address is set at its start); none
        // there, addCandidateBeforeSync inspects it again and says why.
        const address = addressOn(info, networkOf(pt));
        ({ fileSync } = await addCandidateBeforeSync(pt, { name: g.container, ...(address ? { address } : {}) }, { onChecking: checking }));
      } catch (err) {
        // A container that died at once has no address to add: its own exit is the real cause.
        const own = await containerCheck;
        return await withLogs(g, own.passed ? { gate: 'health', passed: false, message: messageOf(err), details: [], durationMs: Date.now() - t0 } : own, t0);
      }
      checking();
      const proxyCheck: Promise<GateResult> = Promise.all([waitHealthy(pt, g.container, g.timeoutMs, local.signal, proxyPassed), fileSync]).then(
        // waitHealthy told proxyPassed at the first passing check, at the latest on this reading.
        ([live]) => ({ gate: 'health', passed: true, message: `proxy check ${live.checkStatus || 'UP'}`, details: [], durationMs: Date.now() - t0 }),
        (err: unknown) => ({ gate: 'health', passed: false, message: messageOf(err), details: [], durationMs: Date.now() - t0 }),
      );
      // Whichever fails first decides; both must pass.
      const first = await Promise.race([containerCheck.then((r) => ({ r, which: 'container' as const })), proxyCheck.then((r) => ({ r, which: 'proxy' as const }))]);
      if (!first.r.passed) result = first.r;
      else {
        const other = first.which === 'container' ? await proxyCheck : await containerCheck;
        result = other.passed ? { ...first.r, message: `${first.r.message}; ${other.message}` } : other;
      }
    }
    return await withLogs(g, result, t0);
  } finally {
    local.abort();
    signal.removeEventListener('abort', relay);
  }
}

/** Ends the health step: a failure carries the container's last log lines (the real cause). */
async function withLogs(g: ProxiedHealthInput, result: GateResult, t0: number): Promise<GateResult> {
  const ev = { host: g.hostName, role: g.role };
  if (result.passed) {
    g.events.step('health', 'done', { ...ev, message: result.message, durationMs: Date.now() - t0 });
    return result;
  }
  const logs = await containerLogsTail(g.host, g.container, LOG_LINES_ON_FAILURE).catch(() => [] as string[]);
  const details = [...result.details];
  if (logs.length > 0 && !details.some((d) => logs.includes(d))) details.push(`last log lines of ${g.container}:`, ...logs.map((l) => `  ${l}`));
  g.events.step('health', 'fail', { ...ev, message: result.message, durationMs: Date.now() - t0 });
  return { ...result, details };
}
