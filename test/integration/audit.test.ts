// The audit log through LocalHost: appends land as whole lines, concurrent appends do not tear,
// reading back returns the newest N entries.
import { afterAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../src/hosts/local-host.js';
import { appendAudit, appendAuditEverywhere, auditLogPath, readAudit, type AuditEntry } from '../../src/state/audit.js';
import { Events } from '../../src/events/events.js';
import { uniqueName } from './helpers/blocks.js';

const host = new LocalHost();
const deployment = { service: uniqueName('blocks-audit-') };
const entry = (i: number): AuditEntry => ({ ts: new Date(1_700_000_000_000 + i).toISOString(), user: 'ann@laptop', host: 'localhost', role: 'web', action: 'deploy', version: `v${i}`, result: 'ok', message: `entry ${i} ${'x'.repeat(200)}` });

afterAll(async () => {
  await host.exec(`rm -f ${auditLogPath(deployment)}`);
});

describe('audit log', () => {
  it('reads an absent log as empty', async () => {
    expect(await readAudit(host, deployment, 10)).toEqual([]);
  });

  it('appends and reads back the last N entries in order', async () => {
    for (let i = 0; i < 5; i++) await appendAudit(host, deployment, entry(i));
    expect((await readAudit(host, deployment, 3)).map((e) => e.version)).toEqual(['v2', 'v3', 'v4']);
    expect(await readAudit(host, deployment, 0)).toHaveLength(5);
  });

  it('keeps concurrent appends whole', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) => appendAudit(host, deployment, entry(100 + i))));
    const all = await readAudit(host, deployment, 0);
    expect(all).toHaveLength(35);
    const raw = await host.exec(`cat ${auditLogPath(deployment)}`);
    expect(raw.stdout.trim().split('\n').every((l) => JSON.parse(l) && true)).toBe(true);
  });

  it('appends one entry per host and scrubs secrets from the message', async () => {
    const events = new Events();
    events.addSecret('hunter2-secret');
    const results = await appendAuditEverywhere([host], deployment, { ts: new Date().toISOString(), user: 'ann@laptop', action: 'deploy', version: 'v9', result: 'failed', message: 'db said: password hunter2-secret rejected' }, { redact: (t) => events.redact(t) });
    expect(results).toEqual([{ host: 'localhost' }]);
    const [last] = (await readAudit(host, deployment, 1));
    expect(last).toMatchObject({ host: 'localhost', version: 'v9', message: 'db said: password [redacted] rejected' });
  });
});
