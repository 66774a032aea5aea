// The same scenario replayed from the replies of two real proxies, Debian 12's HAProxy 2.6.12 and
// Debian 13's 3.0.11 (captured on the local engine with gangway's own container spec, fixtures/
// haproxy/): v1 loaded from the file and ready, v2 added at runtime as a candidate; then switched
// (v2 ready and held, v1 draining); then v1 removed (kept in maint: neither line deletes a server
// the resolvers section points at). The parsers must read both lines the same way.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { liveServers, parseServersState, parseShowInfo, parseStat } from '../../src/proxy/runtime-parse.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/haproxy/${name}`, import.meta.url), 'utf8');
const LINES = ['2.6', '3.0'] as const;
const live = (line: string, step: string) =>
  liveServers('be_hello', parseServersState(fixture(`${line}-${step}.servers-state.txt`)), parseStat(fixture(`${line}-${step}.stat.csv`)))
    .map((s) => ({ name: s.name, state: s.state, health: s.health, checkStatus: s.checkStatus, weight: s.weight, status: s.status }));

describe.each(LINES)('HAProxy %s replies', (line) => {
  it('show info names the version and its line', () => {
    const v = parseShowInfo(fixture(`${line}.info.txt`));
    expect(v.line).toBe(line);
    expect(v.version).toBe(line === '2.6' ? '2.6.12-1+deb12u4' : '3.0.11-1+deb13u4');
  });

  it('a candidate: checked, no traffic; the file-loaded server ready and up', () => {
    expect(live(line, 'candidate')).toEqual([
      { name: 'hello-web-v1', state: 'ready', health: 'up', checkStatus: 'L7OK', weight: 100, status: 'UP' },
      { name: 'hello-web-v2', state: 'drain', health: 'up', checkStatus: 'L7OK', weight: 0, status: 'DRAIN' },
    ]);
  });

  it('switched: the new server ready and held ("no check"), the old one draining and still checked', () => {
    expect(live(line, 'switched')).toEqual([
      { name: 'hello-web-v1', state: 'drain', health: 'up', checkStatus: 'L7OK', weight: 100, status: 'DRAIN' },
      { name: 'hello-web-v2', state: 'ready', health: 'held', checkStatus: '', weight: 100, status: 'no check' },
    ]);
  });

  it('the old server kept in maint after a refused delete', () => {
    expect(live(line, 'removed')).toEqual([
      { name: 'hello-web-v1', state: 'maint', health: 'maint', checkStatus: '', weight: 100, status: 'MAINT' },
      { name: 'hello-web-v2', state: 'ready', health: 'held', checkStatus: '', weight: 100, status: 'no check' },
    ]);
  });
});

describe('what differs between the lines', () => {
  const header = (line: string, file: string) => fixture(`${line}-switched.${file}`).split('\n').find((l) => l.startsWith('# '))!;

  it('show servers state: the same 25 columns, in the same order', () => {
    expect(header('3.0', 'servers-state.txt')).toBe(header('2.6', 'servers-state.txt'));
    expect(header('3.0', 'servers-state.txt').slice(2).split(' ')).toHaveLength(25);
  });

  it('show stat: 3.0 has every column of 2.6 (129) and 77 more, some before 2.6 columns, so only names locate them', () => {
    const cols = (line: string) => header(line, 'stat.csv').slice(2).split(',');
    const [old, now] = [cols('2.6'), cols('3.0')];
    expect([old.length, now.length]).toEqual([129, 206]);
    expect(old.filter((c) => !now.includes(c))).toEqual([]);
    // 3.0 inserts srid, sess_other, h1sess... before the "-" that 2.6 has at 103.
    expect(old.indexOf('-')).toBe(103);
    expect(now.indexOf('srid')).toBe(103);
    for (const c of ['pxname', 'svname', 'scur', 'status', 'weight', 'check_status', 'check_code', 'check_desc', 'addr']) expect(now.indexOf(c)).toBe(old.indexOf(c));
  });
});
