import { describe, expect, it } from 'vitest';
import { renderServerLine, SERVER_RESOLVE_OPTIONS } from '../../src/proxy/render.js';
import * as cmd from '../../src/proxy/runtime-commands.js';

const hc = { path: '/up', intervalMs: 1000, timeoutMs: 5000 };

describe('runtime API builders', () => {
  it.each([
    ['add server', cmd.addServer({ backend: 'be_hello', name: 'hello-web-v2', address: '172.18.0.4', port: 80, healthcheck: hc }),
      'add server be_hello/hello-web-v2 172.18.0.4:80 check inter 1000ms rise 2 fall 3 fastinter 100ms downinter 100ms weight 0', { kind: 'prefix', text: 'New server registered.' }],
    ['enable health', cmd.enableHealth('be_hello', 'hello-web-v2'), 'enable health be_hello/hello-web-v2', { kind: 'empty' }],
    ['disable health', cmd.disableHealth('be_hello', 'hello-web-v2'), 'disable health be_hello/hello-web-v2', { kind: 'empty' }],
    ['state ready', cmd.setServerState('be_hello', 'hello-web-v2', 'ready'), 'set server be_hello/hello-web-v2 state ready', { kind: 'empty' }],
    ['state drain', cmd.setServerState('be_hello', 'hello-web-v1', 'drain'), 'set server be_hello/hello-web-v1 state drain', { kind: 'empty' }],
    ['state maint', cmd.setServerState('be_hello', 'hello-web-v1', 'maint'), 'set server be_hello/hello-web-v1 state maint', { kind: 'empty' }],
    ['weight', cmd.setServerWeight('be_hello', 'hello-web-v2', 100), 'set server be_hello/hello-web-v2 weight 100', { kind: 'empty' }],
    ['del server', cmd.delServer('be_hello', 'hello-web-v1'), 'del server be_hello/hello-web-v1', { kind: 'prefix', text: 'Server deleted.' }],
    ['show servers state', cmd.showServersState(), 'show servers state', { kind: 'prefix', text: '1\n' }],
    ['show servers state of a backend', cmd.showServersState('be_hello'), 'show servers state be_hello', { kind: 'prefix', text: '1\n' }],
    ['show stat', cmd.showStat(), 'show stat', { kind: 'prefix', text: '# pxname,' }],
    ['show info', cmd.showInfo(), 'show info', { kind: 'prefix', text: 'Name: ' }],
  ] as const)('%s', (_label, built, line, expect_) => {
    expect(built).toEqual({ line, expect: expect_ });
  });

  it('adds a server with the same check settings the config file gives it', () => {
    const add = cmd.addServer({ backend: 'be_hello', name: 'hello-web-v2', address: '172.18.0.4', port: 80, healthcheck: hc });
    const fileLine = renderServerLine({ name: 'hello-web-v2', address: '172.18.0.4', port: 80, state: 'drain' }, hc);
    // Both read "<verb> <name> <addr:port> <options>": the check options and the weight must be
    // identical; the file adds only how to resolve the name (runtime servers cannot resolve).
    const options = (line: string) => line.split(/ (?:172\.18\.0\.4|hello-web-v2):80 /)[1];
    expect(options(fileLine)).toBe(`${options(add.line)} ${SERVER_RESOLVE_OPTIONS}`);
  });

  it.each([
    ['a ; in a server name (would start a second command)', () => cmd.enableHealth('be', 'a;shutdown sessions')],
    ['a space in a backend', () => cmd.delServer('be x', 'a')],
    ['a backslash', () => cmd.setServerState('be', 'a\\b', 'ready')],
    ['a host name as address', () => cmd.addServer({ backend: 'be', name: 'a', address: 'app', port: 80, healthcheck: hc })],
    ['a port above 65535', () => cmd.addServer({ backend: 'be', name: 'a', address: '10.0.0.2', port: 70000, healthcheck: hc })],
    ['a weight above 256', () => cmd.setServerWeight('be', 'a', 300)],
  ])('rejects %s', (_label, build) => {
    expect(build).toThrow();
  });
});

describe('set server addr on both lines (replies of 2.6.12 and 3.0.11)', () => {
  const addr = cmd.setServerAddr('be', 'a', '10.0.0.2', 80);
  it.each([
    ['2.6, moved', "IP changed from '127.0.0.1' to '127.0.0.2', no need to change the port by 'stats socket command'"],
    ['2.6, same', "no need to change the addr, no need to change the port by 'stats socket command'"],
    ['2.6, port only', "no need to change the addr, port changed from '18096' to '18095' by 'stats socket command'"],
    ['3.0, moved', "IP changed from '127.0.0.1' to '127.0.0.2' by 'stats socket command'"],
    ['3.0, same', 'nothing changed'],
    ['3.0, port only', "port changed from '18096' to '18095' by 'stats socket command'"],
  ])('accepts %s', (_label, reply) => {
    expect(cmd.replyMatches(addr.expect, `${reply}\n\n`)).toBe(true);
  });

  it('still refuses an error', () => {
    expect(cmd.replyMatches(addr.expect, 'No such server.\n')).toBe(false);
  });
});

describe('replyMatches', () => {
  it.each([
    [{ kind: 'empty' }, '\n', true],
    [{ kind: 'empty' }, '', true],
    [{ kind: 'empty' }, 'No such server.\n\n', false],
    [{ kind: 'empty' }, 'Require \'backend/server\'.\n', false],
    [{ kind: 'prefix', text: 'New server registered.' }, 'New server registered.\n\n', true],
    [{ kind: 'prefix', text: 'New server registered.' }, 'Already exists a server with the same name in backend.\n', false],
    [{ kind: 'prefix', text: 'Server deleted.' }, 'Server still has connections attached to it, cannot remove it.\n', false],
    [{ kind: 'prefix', text: '# pxname,' }, 'Permission denied\n', false],
  ] as const)('%j on %j -> %s', (expect_, reply, ok) => {
    expect(cmd.replyMatches(expect_, reply)).toBe(ok);
  });
});

describe('runtime API batches', () => {
  it('joins read lines with "; " and refuses a line that would split or end the batch', () => {
    expect(cmd.batchLine(['show map /m/slots.map', 'show stat'])).toBe('show map /m/slots.map; show stat');
    expect(() => cmd.batchLine(['show stat; del server be/x'])).toThrow(/may not hold/);
    expect(() => cmd.batchLine(['show stat\nshow info'])).toThrow(/may not hold/);
    expect(() => cmd.batchLine([])).toThrow(/at least one/);
  });

  // Shapes as HAProxy 2.6.12 answered `show map A; show map EMPTY; show map B; show servers state`.
  const replies = ['0x55f0 a.example be1\n\n', '\n', 'Unknown map identifier. Please use #<id> or <file>.\n\n', '1\n# be_id be_name\n3 be1\n\n'];

  it('splits a batch reply into each line\'s own reply, empty replies included', () => {
    expect(cmd.splitBatchReply(replies.join(''), 4)).toEqual(replies);
    expect(cmd.splitBatchReply('\n\n', 2)).toEqual(['\n', '\n']);
  });

  it('a reply with fewer answers than lines, or more text after the last, is an error', () => {
    expect(() => cmd.splitBatchReply(replies.slice(0, 3).join(''), 4)).toThrow(/answered 3 of 4/);
    expect(() => cmd.splitBatchReply(`${replies.join('')}extra`, 4)).toThrow(/answered 4 of 4/);
    expect(() => cmd.splitBatchReply('0x55f0 a.example be1\n', 1)).toThrow(/answered 0 of 1/);
  });
});
