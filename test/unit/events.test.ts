import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Events, type GangwayEvent } from '../../src/events/events.js';
import { makeRenderer, pickRenderer } from '../../src/events/renderers.js';

function sink(isTTY = false): Writable & { text: string; isTTY: boolean } {
  const out = new Writable({
    write(chunk, _enc, done) {
      out.text += String(chunk);
      done();
    },
  }) as Writable & { text: string; isTTY: boolean };
  out.text = '';
  out.isTTY = isTTY;
  return out;
}

describe('Events', () => {
  it('redacts registered secrets from every text field, nested ones included', () => {
    const events = new Events();
    const seen: GangwayEvent[] = [];
    events.on((e) => seen.push(e));
    events.addSecret('hunter2-secret');
    events.log('password is hunter2-secret', { host: 'vm1' });
    events.result('x', { nested: { list: ['a hunter2-secret b'] } });
    expect(JSON.stringify(seen)).not.toContain('hunter2-secret');
    expect(seen[0]).toMatchObject({ type: 'log', message: 'password is [redacted]', host: 'vm1' });
  });

  it('ignores secrets too short to be secrets (they would redact ordinary words)', () => {
    const events = new Events();
    events.addSecret('ab');
    expect(events.redact('about')).toBe('about');
  });

  it('stamps every event with a time', () => {
    const events = new Events();
    let event: GangwayEvent | undefined;
    events.on((e) => { event = e; });
    events.step('pull', 'done', { host: 'vm2', durationMs: 12 });
    expect(event).toMatchObject({ type: 'step', step: 'pull', status: 'done', host: 'vm2', durationMs: 12 });
    expect(typeof event!.ts).toBe('number');
  });
});

describe('renderers', () => {
  it('--json writes one parseable JSON object per line', () => {
    const out = sink();
    const events = new Events();
    events.on(makeRenderer('json', { out }));
    events.step('start', 'start', { host: 'vm1', role: 'web' });
    events.log('line', { host: 'vm1' });
    const lines = out.text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['step', 'log']);
  });

  it('plain output names host and role on every line about one, without colour codes', () => {
    const out = sink();
    const events = new Events();
    events.on(makeRenderer('plain', { out }));
    events.step('health', 'fail', { host: 'vm1', role: 'web', message: 'exit 1' });
    expect(out.text).toBe('[vm1 web] health FAILED exit 1\n');
    expect(out.text).not.toContain('\u001b[');
  });

  it('plain output hides step starts unless --verbose', () => {
    const quiet = sink();
    const loud = sink();
    const events = new Events();
    events.on(makeRenderer('plain', { out: quiet }));
    events.on(makeRenderer('plain', { out: loud, verbose: true }));
    events.step('pull', 'start', { host: 'vm1' });
    expect(quiet.text).toBe('');
    expect(loud.text).toContain('[vm1] pull');
  });

  it('the terminal view redraws per-host lines in place and scrolls finished steps above them', () => {
    const out = sink(true);
    const events = new Events();
    events.on(makeRenderer('tty', { out }));
    events.step('pull', 'start', { host: 'vm1' });
    events.step('pull', 'done', { host: 'vm1' });
    expect(out.text).toContain('\u001b[1A');
    expect(out.text).toContain('[vm1] pull');
  });

  it.each([
    [{ json: true, tty: true, env: {} }, 'json'],
    [{ json: false, tty: true, env: {} }, 'tty'],
    [{ json: false, tty: true, env: { NO_COLOR: '' } }, 'plain'],
    [{ json: false, tty: true, env: { TERM: 'dumb' } }, 'plain'],
    [{ json: false, tty: false, env: {} }, 'plain'],
  ] as const)('picks the renderer for %j', (c, expected) => {
    expect(pickRenderer({ json: c.json, env: c.env as NodeJS.ProcessEnv, out: sink(c.tty) })).toBe(expected);
  });
});
