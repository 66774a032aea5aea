import { describe, expect, it } from 'vitest';
import { mergeHistory } from '../../src/cli/commands/audit.js';
import type { AuditEntry } from '../../src/state/audit.js';

const entry = (host: string, ts: string, action: string, version: string): AuditEntry => ({ ts, user: 'ci@runner', host, action, version, result: 'ok', message: '' });

describe('history across hosts', () => {
  it('one action recorded on several hosts is one entry naming them, oldest first', () => {
    const merged = mergeHistory([
      [entry('vm1', '2026-01-01T10:00:00Z', 'deploy', '1'), entry('vm1', '2026-01-02T10:00:00Z', 'deploy', '2')],
      [entry('vm2', '2026-01-02T10:00:00Z', 'deploy', '2'), entry('vm2', '2026-01-01T10:00:00Z', 'deploy', '1')],
    ]);
    expect(merged.map((e) => [e.version, e.hosts])).toEqual([['1', ['vm1', 'vm2']], ['2', ['vm1', 'vm2']]]);
  });

  it('keeps different actions at the same time apart', () => {
    const merged = mergeHistory([[entry('vm1', '2026-01-01T10:00:00Z', 'deploy', '1'), entry('vm1', '2026-01-01T10:00:00Z', 'rollback', '0')]]);
    expect(merged).toHaveLength(2);
  });
});
