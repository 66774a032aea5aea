// Runtime API lines as data: each builder returns the line to send and how HAProxy answers when
// it worked. RuntimeApi sends them; nothing here touches a socket.
import { serverCheckOptions, slowBoundVar } from './render.js';
import { assertIpv4, assertPort, assertSafeName, type ProxyHealthcheck, type ServerAdmin } from './types.js';

/** What a successful reply looks like. HAProxy answers errors with plain text, not a status. */
export type ReplyExpectation =
  | { kind: 'empty' }
  | { kind: 'prefix'; text: string }
  | { kind: 'prefixes'; texts: string[] };

export interface RuntimeCommand {
  line: string;
  expect: ReplyExpectation;
}

const empty: ReplyExpectation = { kind: 'empty' };
const prefix = (text: string): ReplyExpectation => ({ kind: 'prefix', text });

function target(backend: string, server: string): string {
  return `${assertSafeName('backend', backend)}/${assertSafeName('server name', server)}`;
}

export interface AddServerInput {
  backend: string;
  name: string;
  address: string;
  port: number;
  healthcheck: ProxyHealthcheck;
}

/**
 * HAProxy creates runtime servers in maintenance with checks off. Weight 0 as well means that
 * even a version that created them ready would give them no traffic before gangway says so.
 */
export function addServer(input: AddServerInput): RuntimeCommand {
  assertIpv4(input.address);
  assertPort(input.port);
  return {
    line: `add server ${target(input.backend, input.name)} ${input.address}:${input.port} ${serverCheckOptions(input.healthcheck)} weight 0`,
    expect: prefix('New server registered.'),
  };
}

export const enableHealth = (backend: string, server: string): RuntimeCommand => ({ line: `enable health ${target(backend, server)}`, expect: empty });
export const disableHealth = (backend: string, server: string): RuntimeCommand => ({ line: `disable health ${target(backend, server)}`, expect: empty });

export const setServerState = (backend: string, server: string, state: ServerAdmin): RuntimeCommand => ({
  line: `set server ${target(backend, server)} state ${state}`,
  expect: empty,
});

export function setServerWeight(backend: string, server: string, weight: number): RuntimeCommand {
  if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw new Error(`weight ${weight} is not between 0 and 256`);
  return { line: `set server ${target(backend, server)} weight ${weight}`, expect: empty };
}

/** Points an existing server at another address (a reused server, see addCandidate). */
export function setServerAddr(backend: string, server: string, address: string, port: number): RuntimeCommand {
  assertIpv4(address);
  assertPort(port);
  return {
    line: `set server ${target(backend, server)} addr ${address} port ${port}`,
    // "IP changed from ..." / "port changed from ...", or, when it already had them, "no need to
    // change the addr/port" (2.6.12) or "nothing changed" (3.0.11): both measured.
    expect: { kind: 'prefixes', texts: ['IP changed from', 'no need to change the addr', 'no need to change the port', 'port changed from', 'nothing changed'] },
  };
}

/**
 * HAProxy 2.6 refuses to delete a server that a `resolvers` line resolves (every server loaded
 * from haproxy.cfg); the reply starts with this.
 */
export const NOT_REMOVABLE_REPLY = 'This server cannot be removed at runtime';

export const delServer = (backend: string, server: string): RuntimeCommand => ({ line: `del server ${target(backend, server)}`, expect: prefix('Server deleted.') });

/** Format version 1 starts with the line "1". */
export const showServersState = (backend?: string): RuntimeCommand => ({
  line: backend === undefined ? 'show servers state' : `show servers state ${assertSafeName('backend', backend)}`,
  expect: prefix('1\n'),
});

export const showStat = (): RuntimeCommand => ({ line: 'show stat', expect: prefix('# pxname,') });

/** A slot's per-server count of slow responses (render.ts, slowCountLines). */
export const showTable = (backend: string): RuntimeCommand => ({ line: `show table ${assertSafeName('backend', backend)}`, expect: prefix('# table: ') });

/**
 * The slot's latency bound. `set var` is an experimental CLI command on 2.6 and 3.0 alike
 * (refused without `experimental-mode on` on the same connection; HAProxy then marks itself
 * tainted in `show info`), and the only runtime way to set a value a rule reads without a file.
 */
export const setSlowBound = (backend: string, ms: number): RuntimeCommand => {
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`latency bound must be a whole number of ms, got ${ms}`);
  return { line: `experimental-mode on; set var ${slowBoundVar(assertSafeName('backend', backend))} int(${ms})`, expect: empty };
};

/** Cheap liveness probe; its Pid line also tells a reloaded worker from the old one. */
export const showInfo = (): RuntimeCommand => ({ line: 'show info', expect: prefix('Name: ') });

export function replyMatches(expect: ReplyExpectation, reply: string): boolean {
  if (expect.kind === 'empty') return reply.trim() === '';
  if (expect.kind === 'prefixes') return expect.texts.some((t) => reply.startsWith(t));
  return reply.startsWith(expect.text);
}

/**
 * Several read-only lines as one: HAProxy runs `a; b; c` in order on one connection and ends each
 * reply with an empty line (measured on 2.6.12 and 3.0.11), so one round trip reads what took
 * one per line. Only for reads: HAProxy goes on after a refused line, and a change that follows
 * a refused one must not run (a switch would drain the old server after the new one failed).
 */
export function batchLine(lines: string[]): string {
  if (lines.length === 0) throw new Error('a runtime API batch needs at least one line');
  for (const l of lines) if (l.includes(';') || l.includes('\n')) throw new Error(`a batched runtime API line may not hold ";" or a line break: ${l}`);
  return lines.join('; ');
}

/**
 * The reply of a batch, one reply per line, each as a lone command's reply reads (content and
 * the empty line that ends it). Replies of the read commands batched hold no empty line; fewer
 * replies than lines means the proxy stopped half-way, which is an error, never a short read.
 */
export function splitBatchReply(reply: string, count: number): string[] {
  const replies: string[] = [];
  let current: string[] = [];
  // What follows the last line break is not a line: '' for a whole reply, a cut line otherwise.
  const lines = reply.split('\n');
  const rest = lines.pop();
  for (const line of lines) {
    if (line !== '') {
      current.push(line);
      continue;
    }
    if (replies.length === count) continue;
    replies.push(current.length > 0 ? `${current.join('\n')}\n\n` : '\n');
    current = [];
  }
  if (replies.length < count || current.length > 0 || rest !== '') throw new Error(`the runtime API answered ${replies.length} of ${count} batched commands`);
  return replies;
}
