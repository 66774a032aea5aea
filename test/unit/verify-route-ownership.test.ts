// The proxy-routes-owned invariant's judgement (pure): on a shared proxy every slot serves only
// containers of its owner, by server name and by address, and every route and the catch-all lead
// to an owned slot; the layouts are built as the runtime reports them (layoutFrom).
import { describe, expect, it } from 'vitest';
import type { ResolvedRole } from '../../src/config/resolve.js';
import { encodeSettings, type SlotSettings } from '../../src/proxy/layout.js';
import { layoutFrom } from '../../src/proxy/layout-state.js';
import type { LiveServer, ProxyServer } from '../../src/proxy/types.js';
import type { AppContainer } from '../../src/state/labels.js';
import { judgeInvariants, type InvariantObservation } from '../../src/verify/invariants.js';
import { judgeRouteOwnership, viewOfLayout, viewOfLive, type OwnershipView } from '../../src/verify/route-ownership.js';

const NET = 'gangway';

const settings = (owner: string): SlotSettings => ({
  owner, appPort: 80, healthcheck: { path: '/up', intervalMs: 1000, timeoutMs: 5000 }, responseTimeoutMs: 60_000, maxBodyBytes: 0, forwardHeaders: true,
});

const container = (name: string, service: string, ip: string | undefined, over: Partial<AppContainer> = {}): AppContainer => ({
  id: name, name, service, role: 'web', version: '1.0.0', state: ip ? 'running' : 'exited', running: ip !== undefined,
  createdAt: new Date(0), deployedAt: new Date(0), image: `r/${service}:1.0.0`, imageId: `sha256:${service}`,
  ...(ip ? { addresses: { [NET]: ip } } : {}), ...over,
});

const srv = (name: string, address: string, state: ProxyServer['state'] = 'ready'): ProxyServer => ({ name, address, port: 80, state });

/** alpha (slot 01, alpha.test, the catch-all) and beta@staging (slot 02, beta.test) as a finished deploy leaves them. */
function twoServices(over: { slot01?: ProxyServer[]; slot02?: ProxyServer[]; routes?: Array<[string, string]>; catchAll?: string; slots?: Array<[string, string]> } = {}): OwnershipView {
  const slots = new Map(over.slots ?? [['be_slot_01', encodeSettings(settings('alpha'))], ['be_slot_02', encodeSettings(settings('beta@staging'))]]);
  const routes = new Map(over.routes ?? [['alpha.test/', 'be_slot_01'], ['beta.test/', 'be_slot_02']]);
  const catchAll = new Map([['*', over.catchAll ?? 'be_slot_01']]);
  const servers = new Map([
    ['be_slot_01', over.slot01 ?? [srv('alpha-web-1.0.0', '172.18.0.5')]],
    ['be_slot_02', over.slot02 ?? [srv('beta-web-staging-1.0.0', '172.18.0.6')]],
  ]);
  return viewOfLayout(layoutFrom({ maps: { slots, routes, catchAll }, servers }));
}

const containers = [
  container('alpha-web-1.0.0', 'alpha', '172.18.0.5'),
  container('beta-web-staging-1.0.0', 'beta', '172.18.0.6', { destination: 'staging' }),
  container('beta-web-1.0.0', 'beta', '172.18.0.7'),
  container('alpha-web-0.9.0', 'alpha', undefined, { version: '0.9.0' }),
];

const failed = (view: OwnershipView) => judgeRouteOwnership(view, containers, NET).filter((e) => !e.ok).map((e) => `${e.attribute}: expected ${e.expected}, got ${e.observed}`);

describe('proxy-routes-owned', () => {
  it('two services each serving their own containers pass, counted', () => {
    expect(judgeRouteOwnership(twoServices(), containers, NET)).toEqual([
      { attribute: 'servers of every slot', expected: "containers of the slot's owner", observed: '2 server(s) in 2 owned slot(s), 3 route(s) to owned slots', ok: true },
    ]);
  });

  it("a server in alpha's slot named after beta's container: names the slot, its owner, the server and the container's owner", () => {
    expect(failed(twoServices({ slot01: [srv('alpha-web-1.0.0', '172.18.0.5'), srv('beta-web-staging-1.0.0', '172.18.0.6')] }))).toEqual([
      'be_slot_01 (owner alpha) server beta-web-staging-1.0.0: expected a container of alpha, got container beta-web-staging-1.0.0 of beta@staging',
    ]);
  });

  it("alpha's server re-pointed by address at beta's container (set server addr keeps the name)", () => {
    expect(failed(twoServices({ slot01: [srv('alpha-web-1.0.0', '172.18.0.6')] }))).toEqual([
      'be_slot_01 (owner alpha) server alpha-web-1.0.0: expected an address of a container of alpha, got 172.18.0.6, the address of container beta-web-staging-1.0.0 of beta@staging',
    ]);
  });

  it('another destination of the same service is another owner', () => {
    expect(failed(twoServices({ slot02: [srv('beta-web-1.0.0', '172.18.0.7')] }))).toEqual([
      'be_slot_02 (owner beta@staging) server beta-web-1.0.0: expected a container of beta@staging, got container beta-web-1.0.0 of beta',
    ]);
  });

  it('a stopped container matches by name only (it has no address); a name no container has is not judged here', () => {
    expect(failed(twoServices({ slot02: [srv('beta-web-staging-1.0.0', '172.18.0.6'), srv('alpha-web-0.9.0', ''), srv('gone-web-1.0.0', '172.18.0.99')] }))).toEqual([
      'be_slot_02 (owner beta@staging) server alpha-web-0.9.0: expected a container of beta@staging, got container alpha-web-0.9.0 of alpha',
    ]);
  });

  it('a server in maint carries no traffic and is left out, as the layout leaves it out', () => {
    expect(failed(twoServices({ slot01: [srv('alpha-web-1.0.0', '172.18.0.5'), srv('beta-web-1.0.0', '172.18.0.7', 'maint')] }))).toEqual([]);
  });

  it('a route and the catch-all leading to a slot with no owner fail; servers of an ownerless slot are not judged', () => {
    const view = twoServices({ slots: [['be_slot_01', encodeSettings(settings('alpha'))]], catchAll: 'be_slot_02' });
    expect(failed(view)).toEqual([
      'route beta.test: expected a slot with an owner, got be_slot_02, which has no owner',
      'the catch-all: expected a slot with an owner, got be_slot_02, which has no owner',
    ]);
  });

  it('a proxy still on the single-service layout: be_<service> is the service\'s and answers every name', () => {
    const live = (servers: ProxyServer[]) => ({ kind: 'legacy' as const, servers: new Map([['be_alpha', servers.map((s) => ({ ...s, health: 'up', checkStatus: '', checkDescription: '', sessions: 0, weight: 100, status: 'UP' }) as LiveServer)]]) });
    expect(viewOfLive(live([srv('alpha-web-1.0.0', '172.18.0.5')]), 'alpha')).toEqual({ slots: [{ backend: 'be_alpha', owner: 'alpha', servers: [expect.objectContaining({ name: 'alpha-web-1.0.0' })] }], routes: [], catchAll: 'be_alpha' });
    expect(failed(viewOfLive(live([srv('alpha-web-1.0.0', '172.18.0.7')]), 'alpha'))).toEqual([
      'be_alpha (owner alpha) server alpha-web-1.0.0: expected an address of a container of alpha, got 172.18.0.7, the address of container beta-web-1.0.0 of beta',
    ]);
  });
});

describe('proxy-routes-owned among the built-in invariants', () => {
  const web: ResolvedRole = { name: 'web', hosts: ['vm1'], proxied: true, primary: true, env: {} };
  const workers: ResolvedRole = { name: 'workers', hosts: ['vm1'], proxied: false, primary: false, env: {} };
  const observation = (view: OwnershipView): InvariantObservation => ({
    host: 'vm1',
    containers: containers.filter((c) => c.service === 'alpha'),
    hostContainers: containers,
    proxyServers: [],
    proxyView: view,
    networkContainers: [],
  });
  const owned = (o: InvariantObservation, roles: ResolvedRole[]) => judgeInvariants(o, { service: 'alpha', roles, retain: 3 }).filter((r) => r.subject === 'proxy-routes-owned');

  it("one result per proxied host, judging another service's slot too (beta's, while alpha is verified)", () => {
    const [result, ...more] = owned(observation(twoServices({ slot02: [srv('beta-web-staging-1.0.0', '172.18.0.5')] })), [web, workers]);
    expect(more).toEqual([]);
    expect(result).toMatchObject({
      host: 'vm1', origin: 'built-in', type: 'invariant', title: 'proxy-routes-owned', status: 'fail',
      message: 'be_slot_02 (owner beta@staging) server beta-web-staging-1.0.0: expected an address of a container of beta@staging, got 172.18.0.5, the address of container alpha-web-1.0.0 of alpha',
    });
    expect(result).not.toHaveProperty('role');
  });

  it('no result on a host without a proxied role', () => {
    expect(owned(observation(twoServices()), [workers])).toEqual([]);
  });
});
