// verify's pure parts: the spec (and its errors with positions), the output parser, resource
// judgements, the built-in invariants, and the reporters (JUnit must parse as XML).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ResolvedRole } from '../../src/config/resolve.js';
import { GangwayError } from '../../src/errors.js';
import type { AppContainer } from '../../src/state/labels.js';
import { loadVerifyFile } from '../../src/verify/load.js';
import { judgeInvariants, type InvariantObservation } from '../../src/verify/invariants.js';
import { planChecks } from '../../src/verify/plan.js';
import { parseScriptOutput } from '../../src/checks/probes/parse.js';
import { junitReport } from '../../src/verify/reporters/junit.js';
import { humanReport } from '../../src/verify/reporters/human.js';
import { tapReport } from '../../src/verify/reporters/tap.js';
import { containerResource, imageTag } from '../../src/checks/resources/container.js';
import { decodeListenAddress, decodeProcAddress, portResource } from '../../src/checks/resources/port.js';
import { serviceResource } from '../../src/checks/resources/service.js';
import { judgeOutput } from '../../src/verify/run.js';
import { verifySchema } from '../../src/checks/spec.js';
import type { CheckResult } from '../../src/checks/types.js';
import type { VerifyReport } from '../../src/verify/verify.js';

const roles: ResolvedRole[] = [
  { name: 'web', hosts: ['vm1', 'vm2'], proxied: true, primary: true, env: {} },
  { name: 'workers', hosts: ['vm3'], proxied: false, primary: false, env: {} },
];

async function specErrors(yamlText: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-verify-spec-'));
  writeFileSync(join(dir, 'verify.yml'), yamlText);
  try {
    await loadVerifyFile('verify.yml', dir, { roles });
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(GangwayError);
    expect((err as GangwayError).code).toBe('config');
    return (err as GangwayError).details;
  }
}

describe('the verify spec', () => {
  it('reads one resource key per item, with defaults, per role and per host', () => {
    const spec = verifySchema.parse({ roles: { web: [{ file: '/etc/x', mode: '0644' }, { port: 80 }] }, hosts: { vm3: [{ command: 'true', title: 'truth' }] } });
    expect(spec.roles.web!.map((c) => [c.type, c.subject])).toEqual([['file', '/etc/x'], ['port', 'tcp/80']]);
    expect(spec.roles.web![1]!.spec).toMatchObject({ listening: true, proto: 'tcp' });
    expect(spec.hosts.vm3![0]).toMatchObject({ type: 'command', title: 'truth', spec: { exit_code: 0, timeout: 10_000 } });
  });

  it.each([
    ['roles:\n  web:\n    - file: /etc/x\n      moed: "0644"\n', 'verify.yml:4:13 roles.web[0].moed: unknown key `moed` for a file check — did you mean `mode`?'],
    ['roles:\n  web:\n    - fiel: /etc/x\n', 'verify.yml:3:13 roles.web[0].fiel: unknown resource `fiel` — did you mean `file`?'],
    ['roles:\n  web:\n    - file: /etc/x\n      port: 80\n', 'verify.yml:4:13 roles.web[0].port: a check has one resource key, found file and port: split it into 2 checks'],
    ['roles:\n  web:\n    - file: etc/x\n', 'verify.yml:3:13 roles.web[0].file: expected an absolute path starting with /, got "etc/x"'],
    ['roles:\n  web:\n    - file: /etc/x\n      mode: 644\n', 'verify.yml:4:13 roles.web[0].mode: expected an octal mode in quotes, such as "0644", got 644'],
    ['hosts:\n  vm3:\n    - port: 99999\n', 'verify.yml:3:13 hosts.vm3[0].port: expected at most 65535, got 99999'],
    ['roles:\n  db:\n    - port: 5432\n', 'verify.yml:2:3 roles.db: role "db" is not in servers (roles: web, workers)'],
    ['hosts:\n  vm9: []\n', 'verify.yml:2:3 hosts.vm9: host "vm9" is not a host of any role (hosts: vm1, vm2, vm3)'],
    ['verify:\n  roles:\n    web:\n      - command: true\n', 'verify.yml:4:18 verify.roles.web[0].command: expected a string, got true'],
    ['rolse: {}\n', 'verify.yml:1:1 rolse: unknown key `rolse` — did you mean `roles`?'],
  ])('%j -> %s', async (text, expected) => {
    const got = await specErrors(text);
    expect(got, got.join('\n')).toContain(expected);
  });

  it('a valid file loads', async () => {
    expect(await specErrors('roles:\n  web:\n    - port: 80\n    - http: http://127.0.0.1/up\n      body: ok\n')).toEqual([]);
  });
});

describe('planning', () => {
  it('puts role checks on every host of the role, host checks on the host, built-ins everywhere', () => {
    const spec = verifySchema.parse({ roles: { web: [{ port: 80 }] }, hosts: { vm3: [{ process: 'dockerd' }] } });
    const plan = planChecks(spec, roles, ['vm1', 'vm2', 'vm3']);
    expect([...plan.entries()].map(([h, cs]) => [h, cs.map((c) => c.origin)])).toEqual([
      ['vm1', ['roles.web[0]', 'built-in']],
      ['vm2', ['roles.web[0]', 'built-in']],
      ['vm3', ['hosts.vm3[0]', 'built-in']],
    ]);
  });
});

describe('reading the script output', () => {
  it('keeps whole lines, reports a fragment glued to the next line, and notices the end marker', () => {
    const out = '{"i":0,"f":{"a":1}}\n{"i":1,"f":{"x":{"i":2,"f":{"b":true}}\nnot json\n{"end":true}\n';
    const parsed = parseScriptOutput(out);
    expect([...parsed.facts.entries()]).toEqual([[0, { a: 1 }], [2, { b: true }]]);
    expect(parsed.garbled).toEqual(['{"i":1,"f":{"x":', 'not json']);
    expect(parsed.complete).toBe(true);
  });

  it('a check without a line is an error, never a pass', () => {
    const plan = planChecks(verifySchema.parse({ hosts: { h: [{ port: 1, listening: false }, { port: 2, listening: false }] } }), [], ['h'], false).get('h')!;
    const results = judgeOutput('h', plan, { code: 2, stdout: '{"i":0,"f":{"addresses":""}}\n', stderr: 'sh: 9: syntax error' });
    expect(results.map((r) => [r.status, r.message])).toEqual([['pass', undefined], ['error', 'the verify script stopped early (exit 2: sh: 9: syntax error)']]);
  });
});

describe('resource judgements', () => {
  it.each([
    ['0100007F', '127.0.0.1'],
    ['00000000', '0.0.0.0'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000001000000', '::1'],
    ['0000000000000000FFFF00000100007F', '::ffff:127.0.0.1'],
  ])('decodes the kernel address %s as %s', (hex, text) => {
    expect(decodeProcAddress(hex)).toBe(text);
  });

  it.each([
    ['0100007F', '127.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['[::]', '::'],
    ['[::ffff:127.0.0.1]', '::ffff:127.0.0.1'],
    ['127.0.0.53%lo', '127.0.0.53'],
    ['[fe80::1]%eth0', 'fe80::1'],
    ['*', '::'],
  ])('reads the listening address %s (kernel hex or ss text) as %s', (token, text) => {
    expect(decodeListenAddress(token)).toBe(text);
  });

  it('port: listening on an exact address', () => {
    const spec = verifySchema.parse({ hosts: { h: [{ port: 80, address: '127.0.0.1' }] } }).hosts.h![0]!.spec as never;
    expect(portResource.evaluate(spec, { addresses: '00000000 00000000000000000000000000000000' }).map((e) => e.ok)).toEqual([true, false]);
    expect(portResource.evaluate(spec, { addresses: '0100007F' }).every((e) => e.ok)).toBe(true);
  });

  it('service: running and enabled as systemd or the init.d script says; no manager is a failure', () => {
    const spec = verifySchema.parse({ hosts: { h: [{ service: 'ssh', enabled: true }] } }).hosts.h![0]!.spec as never;
    expect(serviceResource.evaluate(spec, { manager: 'systemd', running: true, state: 'active', enabled: true, enabled_state: 'enabled' }).every((e) => e.ok)).toBe(true);
    const stopped = serviceResource.evaluate(spec, { manager: 'systemd', running: false, state: 'failed', enabled: false, enabled_state: 'disabled' });
    expect(stopped.map((e) => [e.attribute, e.ok, e.observed])).toEqual([['running', false, 'not running (systemd: failed)'], ['enabled', false, 'not enabled (disabled)']]);
    expect(serviceResource.evaluate(spec, { manager: 'init.d', running: true, enabled: true }).every((e) => e.ok)).toBe(true);
    expect(serviceResource.evaluate(spec, { manager: null }).map((e) => [e.attribute, e.ok])).toEqual([['service manager', false]]);
    const absent = verifySchema.parse({ hosts: { h: [{ service: 'nope', running: false }] } }).hosts.h![0]!.spec as never;
    expect(serviceResource.evaluate(absent, { manager: 'init.d', running: false, enabled: false, state: 'no /etc/init.d script' }).every((e) => e.ok)).toBe(true);
    expect(() => verifySchema.parse({ hosts: { h: [{ service: 'a b' }] } })).toThrow(/service name/);
  });

  it('container: running, version from the gangway label or the image tag, health, restarts, labels', () => {
    const spec = verifySchema.parse({ hosts: { h: [{ container: 'c', version: '1.0.0', health: 'healthy', max_restarts: 0, labels: { 'gangway.role': 'web' } }] } }).hosts.h![0]!.spec as never;
    const inspect = { running: true, status: 'running', health: 'healthy', restarts: 0, image: 'registry:5000/a/hello:1.0.0', labels: { 'gangway.role': 'web' } };
    expect(containerResource.evaluate(spec, { inspect }).every((e) => e.ok)).toBe(true);
    const bad = containerResource.evaluate(spec, { inspect: { ...inspect, running: false, status: 'exited', health: 'unhealthy', restarts: 4, labels: {} } });
    expect(bad.filter((e) => !e.ok).map((e) => e.attribute)).toEqual(['running', 'health', 'restarts', 'label gangway.role']);
    expect(imageTag('registry:5000/a/hello:1.0.0')).toBe('1.0.0');
    expect(imageTag('registry:5000/a/hello')).toBeUndefined();
  });
});

const app = (name: string, role: string, version: string, running: boolean, deployedAt = '2026-01-01T00:00:00Z'): AppContainer => ({
  id: name, name, service: 'hello', role, version, state: running ? 'running' : 'exited', running,
  createdAt: new Date(deployedAt), deployedAt: new Date(deployedAt), image: `r/hello:${version}`, imageId: `sha256:${version}`,
});

const server = (name: string, over: Partial<InvariantObservation['proxyServers'] extends (infer S)[] | undefined ? S : never> = {}) => ({
  name, address: '172.18.0.5', port: 80, state: 'ready' as const, health: 'up' as const, checkStatus: 'L7OK', checkDescription: '', sessions: 0, weight: 100, status: 'UP', ...over,
});

describe('built-in invariants', () => {
  const healthy = (): InvariantObservation => ({
    host: 'vm1',
    containers: [{ ...app('hello-web-2.0.0', 'web', '2.0.0', true, '2026-01-02T00:00:00Z'), addresses: { gangway: '172.18.0.5' } }, app('hello-web-1.0.0', 'web', '1.0.0', false)],
    proxyServers: [server('hello-web-2.0.0'), server('hello-web-1.0.0', { state: 'drain', weight: 0 })],
    networkContainers: [{ name: 'gangway-proxy', labels: { 'gangway.managed': 'proxy' } }, { name: 'hello-web-2.0.0', labels: { 'gangway.managed': 'app' } }],
    proxyView: { slots: [{ backend: 'be_slot_01', owner: 'hello', servers: [server('hello-web-2.0.0'), server('hello-web-1.0.0')] }], routes: [], catchAll: 'be_slot_01' },
  });
  const ctx = { service: 'hello', roles: [roles[0]!], retain: 1 };
  const failures = (o: InvariantObservation, c = ctx) => judgeInvariants(o, c).filter((r) => r.status !== 'pass').map((r) => `${r.subject}: ${r.message}`);

  it('a finished deploy passes every invariant', () => {
    expect(judgeInvariants(healthy(), ctx).map((r) => [r.subject, r.status])).toEqual([
      ['proxy-route', 'pass'], ['one-live-version', 'pass'], ['retain', 'pass'], ['unknown-containers', 'pass'], ['proxy-routes-owned', 'pass'],
    ]);
  });

  it('a live server set to maint by hand: nothing is routed', () => {
    const o = healthy();
    o.proxyServers = o.proxyServers!.map((s) => ({ ...s, state: s.name === 'hello-web-2.0.0' ? 'maint' : s.state }));
    expect(failures(o)).toEqual(['proxy-route: ready servers: expected at least one, got none (nothing is routed)']);
  });

  it('a route to a stopped container of another version, down, and a route to a wrong address', () => {
    const o = healthy();
    o.proxyServers = [server('hello-web-2.0.0', { address: '172.18.0.9' }), server('hello-web-1.0.0', { health: 'down', checkDescription: 'Connection refused' })];
    expect(failures(o)).toEqual([
      'proxy-route: server hello-web-2.0.0 address: expected 172.18.0.5, got 172.18.0.9',
    ]);
    const results = judgeInvariants(o, ctx)[0]!.expectations.filter((e) => !e.ok).map((e) => e.attribute);
    expect(results).toEqual(['server hello-web-2.0.0 address', 'server hello-web-1.0.0 container', 'server hello-web-1.0.0 version', 'server hello-web-1.0.0 health']);
  });

  it('a stray labelled container of an unknown version, and an unlabelled one on the app network', () => {
    const o = healthy();
    o.containers.push(app('stray', 'web', '0.0.9', true));
    o.networkContainers.push({ name: 'intruder', labels: {} });
    expect(failures(o)).toEqual([
      'one-live-version: running versions: expected exactly one, got 2.0.0, 0.0.9',
      'unknown-containers: running containers of unknown versions: expected none, got stray (version 0.0.9, live is 2.0.0); intruder (no gangway labels, on network gangway)',
    ]);
  });

  it('more stopped versions than retain, and a proxy that does not answer', () => {
    const o = healthy();
    o.containers.push(app('hello-web-0.9.0', 'web', '0.9.0', false));
    delete o.proxyServers;
    delete o.proxyView;
    o.proxyError = 'connect ENOENT';
    expect(failures(o)).toEqual([
      'proxy-route: proxy: expected answers on its runtime API, got no answer (connect ENOENT)',
      'retained versions: expected at most 1, got 2 (1.0.0, 0.9.0)'.replace(/^/, 'retain: '),
      'proxy-routes-owned: proxy: expected answers on its runtime API, got no answer (connect ENOENT)',
    ]);
  });
});

const results: CheckResult[] = [
  { host: 'vm1', role: 'web', origin: 'roles.web[0]', type: 'file', subject: '/etc/x', title: 'file /etc/x & <co>', status: 'fail', expectations: [{ attribute: 'mode', expected: '0644', observed: '0600\u0001', ok: false }], message: 'mode: expected 0644, got 0600\u0001' },
  { host: 'vm1', role: 'web', origin: 'roles.web[1]', type: 'port', subject: 'tcp/80', title: 'port tcp/80 # x', status: 'pass', expectations: [] },
  { host: 'vm2', origin: 'built-in', type: 'invariant', subject: 'unknown-containers', title: 'unknown-containers', status: 'error', expectations: [], message: 'host unreachable: "quoted"' },
];
const report: VerifyReport = { hosts: ['vm1', 'vm2'], results, durationMs: 1234 };

describe('reporters', () => {
  it('JUnit: valid XML, one suite per host, failures and errors counted, control characters dropped', () => {
    const xml = junitReport(report, new Date('2026-01-01T00:00:00Z'));
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as { testsuites: { tests: string; failures: string; errors: string; testsuite: Array<{ name: string; testcase: unknown }> } };
    expect([doc.testsuites.tests, doc.testsuites.failures, doc.testsuites.errors]).toEqual(['3', '1', '1']);
    expect(doc.testsuites.testsuite.map((s) => s.name)).toEqual(['vm1', 'vm2']);
    const vm1 = doc.testsuites.testsuite[0]!.testcase as Array<{ name: string; classname: string; failure?: { message: string } }>;
    expect(vm1[0]).toMatchObject({ name: 'file /etc/x & <co>', classname: 'vm1.web', failure: { message: 'mode: expected 0644, got 0600' } });
  });

  it('TAP: a plan line, ok / not ok per check, # escaped, a YAML block for failures', () => {
    const tap = tapReport(report).split('\n');
    expect(tap.slice(0, 3)).toEqual(['TAP version 13', '1..3', 'not ok 1 - [vm1 web] file /etc/x & <co>']);
    expect(tap).toContain('ok 2 - [vm1 web] port tcp/80 \\# x');
    expect(tap).toContain('  failed:');
    expect(tap).toContain('not ok 3 - [vm2] unknown-containers');
  });

  it('human: grouped by host, failures first, then a summary', () => {
    const lines = humanReport({ ...report, results: [results[1]!, results[0]!, results[2]!] }).map((l) => `${l.host ?? '-'} ${l.message}`);
    expect(lines).toEqual([
      'vm1 FAIL file /etc/x & <co>',
      'vm1   mode: expected 0644, got 0600\u0001',
      'vm1 ok port tcp/80 # x',
      'vm2 ERROR unknown-containers: host unreachable: "quoted"',
      '- verify: 3 checks on 2 hosts: 1 passed, 1 failed, 1 error (1.2s)',
    ]);
  });
});

describe('JSON Schema', () => {
  it('offers each resource as an alternative for editors', () => {
    const json = JSON.stringify(z.toJSONSchema(verifySchema, { io: 'input', unrepresentable: 'any' }));
    for (const key of ['"file"', '"port"', '"sysctl"', '"max_restarts"']) expect(json).toContain(key);
  });
});

describe('resource keys that are also attributes', () => {
  it('a file check may say group:, a container check image:', () => {
    const spec = verifySchema.parse({ hosts: { h: [{ file: '/etc/x', group: 'root' }, { container: 'c', image: 'a:1' }, { group: 'root' }] } });
    expect(spec.hosts.h!.map((c) => c.type)).toEqual(['file', 'container', 'group']);
  });
});
