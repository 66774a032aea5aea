// `gangway remove`: one (service, destination), or one role of it, taken off its hosts. Under the
// deploy lock, like a deploy. On each host its proxy routes go first (nothing new reaches it), its
// servers drain and leave the proxy, its slot is freed; only then are its containers stopped and
// removed, with their images and env files. Other services on the same hosts and proxy are never
// touched: everything here is found by this deployment's labels, slot owner and keyed paths.
import { findContainers, removeContainer, stopContainer } from '../app/container.js';
import { envFilePath, removeEnvFileCommand } from '../app/env-file.js';
import { GangwayError, messageOf, operationError, usageError } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { holdChecks } from '../proxy/runtime-operations.js';
import { withdrawService } from '../proxy/withdraw.js';
import { removeCertificates } from '../proxy/certificates.js';
import { withdrawAcmeNames } from '../proxy/acme-install.js';
import { proxyState } from '../proxy/lifecycle.js';
import { sslOn } from '../config/schema.js';
import { describeDeployment } from '../state/deployment.js';
import { auditEverywhere, withDeployLock } from './locked.js';
import { connectAll } from '../fleet/connect.js';
import { assertDockerReady } from '../fleet/prepare.js';
import { primaryHostOf, proxyTarget, type Session } from '../fleet/session.js';

const STOP_GRACE_MS = 10_000;

/** One host's share of a removal: the roles whose containers go, and whether its route goes too. */
export interface RemovalTarget {
  host: string;
  roles: string[];
  proxied: boolean;
}

/** Pure: which hosts lose what; `role` limits it to one role (exit 2 when the config has none such). */
export function planRemoval(roles: ReadonlyArray<{ name: string; hosts: readonly string[]; proxied: boolean }>, role?: string): RemovalTarget[] {
  const picked = role === undefined ? roles : roles.filter((r) => r.name === role);
  if (role !== undefined && picked.length === 0) throw usageError(`--role ${role}: no such role in the config (roles: ${roles.map((r) => r.name).join(', ')})`);
  const byHost = new Map<string, RemovalTarget>();
  for (const r of picked) {
    for (const h of r.hosts) {
      const t = byHost.get(h) ?? { host: h, roles: [], proxied: false };
      t.roles.push(r.name);
      t.proxied ||= r.proxied;
      byHost.set(h, t);
    }
  }
  return [...byHost.values()];
}

export interface RemoveOptions {
  role?: string;
  lockWaitMs?: number;
}

export async function runRemove(s: Session, opts: RemoveOptions): Promise<void> {
  const started = Date.now();
  const { events, deployment } = s;
  const targets = planRemoval(s.loaded.roles, opts.role);
  const primary = primaryHostOf(s);
  const hosts = await connectAll(s, [...new Set([primary, ...targets.map((t) => t.host)])]);
  await assertDockerReady([...hosts.values()]);

  const failures: GangwayError[] = [];
  const lock = { host: hosts.get(primary)!, version: '-', message: `remove${opts.role ? ` --role ${opts.role}` : ''}`, waitMs: opts.lockWaitMs };
  await withDeployLock(s, lock, async () => {
    await Promise.all(targets.map(async (t) => {
      try {
        await removeFromHost(s, hosts.get(t.host)!, t);
      } catch (err) {
        const gerr = err instanceof GangwayError ? err : operationError(messageOf(err), { host: t.host, step: 'remove', cause: err });
        events.step('remove', 'fail', { host: t.host, message: gerr.message });
        failures.push(gerr);
      }
    }));
    await auditEverywhere(s, targets.map((t) => hosts.get(t.host)!), {
      action: 'remove',
      version: '-',
      ok: failures.length === 0,
      message: failures.length === 0 ? `removed ${targets.map((t) => t.roles.join('+')).filter((v, i, a) => a.indexOf(v) === i).join(', ')}` : `remove failed: ${failures.map((f) => f.message).join('; ')}`,
    });
  });
  if (failures.length > 0) {
    throw operationError(failures.length === 1 ? failures[0]!.message : `remove failed on ${failures.length} hosts`, {
      ...(failures.length === 1 && failures[0]!.host ? { host: failures[0]!.host } : {}),
      step: 'remove',
      details: failures.length === 1 ? [] : failures.map((f) => `${f.host ?? '?'}: ${f.message}`),
      hint: 'a host whose routes could not be taken off keeps its containers (still serving); run remove again',
    });
  }
  const what = `${describeDeployment(deployment)}${opts.role ? ` (role ${opts.role})` : ''}`;
  events.emit({ type: 'done', ok: true, command: 'remove', exitCode: 0, message: `removed ${what} from ${targets.map((t) => t.host).join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)}s` });
}

/**
 * Routes off first: a container stopped while its route still sends it requests would fail them.
 * A failure there leaves the containers running and serving, and is reported.
 */
async function removeFromHost(s: Session, host: Host, t: RemovalTarget): Promise<void> {
  const { events, deployment } = s;
  const cfg = s.loaded.config;
  if (t.proxied) {
    const t0 = Date.now();
    events.step('routes', 'start', { host: t.host, message: 'take routes off the proxy, drain, free the slot' });
    const pt = proxyTarget(s, host);
    // Stopping containers slows the host for every service on it: what serves is held first, as
    // a deploy does (holdChecks), so a slow answer is never a check failure and a 503.
    await holdChecks(pt).catch(() => []);
    const out = await withdrawService(pt, cfg.drain_timeout);
    const cut = out.drains.reduce((n, d) => n + d.sessions, 0);
    const message = !out.routed ? 'no slot on this proxy' : `${out.drains.map((d) => d.server).join(', ') || 'no servers'} drained${cut > 0 ? ` (drain_timeout reached: ${cut} open session${cut === 1 ? '' : 's'} cut by the stop)` : ''}, slot freed`;
    events.step('routes', 'done', { host: t.host, message, durationMs: Date.now() - t0 });
    if (out.routed && sslOn(cfg.proxy) && cfg.proxy.hosts) {
      const removed = await removeCertificates(pt, cfg.proxy.hosts, (await proxyState(pt)) === 'running');
      if (removed.length > 0) events.log(`certificates of ${removed.join(', ')} taken off the proxy`, { host: t.host, step: 'routes' });
    }
    if (cfg.proxy.ssl === true && cfg.proxy.hosts) await withdrawAcmeNames(pt);
  }
  const docker = await host.docker();
  for (const role of t.roles) {
    const containers = await findContainers(host, deployment, role);
    const images = new Set<string>();
    for (const c of containers) {
      const t0 = Date.now();
      events.step('stop', 'start', { host: t.host, role, message: c.name });
      if (c.running) await stopContainer(host, c.id, STOP_GRACE_MS);
      if (c.imageId) images.add(c.imageId);
      await removeContainer(host, c.id);
      events.step('stop', 'done', { host: t.host, role, message: `${c.name} removed`, durationMs: Date.now() - t0 });
    }
    // An image another container still uses (another service, another role) is refused by the
    // engine and kept: that refusal is the check.
    for (const id of images) await docker.getImage(id).remove().catch(() => {});
    const env = removeEnvFileCommand(envFilePath(deployment, role));
    const r = await host.exec(env.command);
    if (r.code !== 0) throw operationError(`could not remove the env file of ${role}: ${r.stderr.trim() || `exit ${r.code}`}`, { host: t.host, role, step: 'remove' });
  }
}
