// `gangway exec`'s pure decisions: where it runs (-i needs one host) and what it creates.
import { describe, expect, it } from 'vitest';
import { buildProgram, type CommandRunner } from '../../src/cli/main.js';
import { createRequest } from '../../src/docker/containers.js';
import { GangwayError, exitCodeFor } from '../../src/errors.js';
import { execContainerName, execContainerOptions, execHosts, liveExecOptions, OUTPUT_ONLY, terminalSize, type ExecMode } from '../../src/app/exec-plan.js';

const web = { name: 'web', hosts: ['vm1', 'vm2'] };
const workers = { name: 'workers', hosts: ['vm3'] };

function usageOf(fn: () => unknown): GangwayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GangwayError);
    return err as GangwayError;
  }
  throw new Error('expected a usage error');
}

describe('execHosts', () => {
  it('without -i: every host of the role, or the one --host names', () => {
    expect(execHosts(web, undefined, false)).toEqual(['vm1', 'vm2']);
    expect(execHosts(web, 'vm2', false)).toEqual(['vm2']);
  });
  it('-i on a role with one host needs no --host', () => {
    expect(execHosts(workers, undefined, true)).toEqual(['vm3']);
  });
  it('-i on a role with several hosts and no --host: exit 2, naming the hosts and how to choose', () => {
    const err = usageOf(() => execHosts(web, undefined, true));
    expect(exitCodeFor(err.code)).toBe(2);
    expect(err.message).toBe('exec -i opens one console: role web runs on vm1, vm2; choose one with --host');
    expect(err.hint).toBe('gangway exec -i --host vm1 ...');
  });
  it('-i with --host picks that host', () => {
    expect(execHosts(web, 'vm2', true)).toEqual(['vm2']);
  });
  it('a --host outside the role: exit 2, naming the role\'s hosts', () => {
    const err = usageOf(() => execHosts(web, 'vm3', true));
    expect(exitCodeFor(err.code)).toBe(2);
    expect(err.message).toBe('host vm3 is not in role web (its hosts: vm1, vm2)');
  });
});

describe('execContainerOptions', () => {
  const source = { name: 'hello-web-1.0.0', image: 'sha256:abc', env: ['MODE=test', 'DB_PASSWORD=s3cr3t-db'], binds: ['/srv/data:/data'] };
  const now = new Date('2026-01-02T03:04:05Z');
  const options = (mode: ExecMode) => execContainerOptions({ source, deployment: { service: 'hello', destination: 'staging' }, role: 'web', cmd: ['sh'], network: 'gangway', mode, now });

  it('copies the live container: image id, env, binds, on the app network, named beside it', () => {
    const o = options(OUTPUT_ONLY);
    expect(o.name).toBe(execContainerName('hello-web-1.0.0', now));
    expect(o.name).toBe(`hello-web-1.0.0-exec-${now.getTime().toString(36)}`);
    expect(o.Image).toBe('sha256:abc');
    expect(o.Cmd).toEqual(['sh']);
    expect(o.Env).toEqual(source.env);
    expect(o.HostConfig).toEqual({ NetworkMode: 'gangway', Binds: ['/srv/data:/data'] });
  });
  it('labels it as exec\'s, with its deployment and role, so a leftover is found by label', () => {
    expect(options(OUTPUT_ONLY).Labels).toEqual({ 'gangway.service': 'hello', 'gangway.destination': 'staging', 'gangway.role': 'web', 'gangway.managed': 'exec' });
  });
  it('without -i: no stdin, no PTY, no auto-removal (today\'s exec)', () => {
    const o = options(OUTPUT_ONLY);
    expect(o.OpenStdin).toBeUndefined();
    expect(o.Tty).toBeUndefined();
    expect(o.HostConfig?.AutoRemove).toBeUndefined();
  });
  it('-i with a terminal: stdin open once, a PTY of the local size, removed by the engine when its program ends', () => {
    const o = options({ stdin: true, tty: true, size: { rows: 40, columns: 120 } });
    expect(o).toMatchObject({ AttachStdin: true, AttachStdout: true, AttachStderr: true, OpenStdin: true, StdinOnce: true, Tty: true });
    expect(o.HostConfig).toMatchObject({ AutoRemove: true, ConsoleSize: [40, 120] });
  });
  it('-i without a terminal: stdin piped, no PTY, no console size', () => {
    const o = options({ stdin: true, tty: false });
    expect(o).toMatchObject({ OpenStdin: true, StdinOnce: true, Tty: false });
    expect(o.HostConfig?.ConsoleSize).toBeUndefined();
  });
  it('the env (secrets included) travels in the create body, never in the query', () => {
    const req = createRequest(options({ stdin: true, tty: true }));
    expect(JSON.stringify(req._query)).not.toContain('s3cr3t-db');
    expect(req._body.Env).toContain('DB_PASSWORD=s3cr3t-db');
  });
});

describe('liveExecOptions (--reuse)', () => {
  it('without -i: output only, as today', () => {
    expect(liveExecOptions(['cat', '/x'], OUTPUT_ONLY)).toEqual({ Cmd: ['cat', '/x'], AttachStdout: true, AttachStderr: true });
  });
  it('-i with a terminal: stdin, a PTY of the local size, and a detach sequence nobody types', () => {
    const o = liveExecOptions(['sh'], { stdin: true, tty: true, size: { rows: 24, columns: 80 } }) as Record<string, unknown>;
    expect(o).toMatchObject({ AttachStdin: true, Tty: true, ConsoleSize: [24, 80] });
    // Not docker's default ctrl-p,ctrl-q: Ctrl-P must reach the program at once.
    expect(String(o.DetachKeys)).not.toMatch(/ctrl-p/);
  });
});

describe('terminalSize', () => {
  it('takes rows and columns, and no size from a terminal that reports none', () => {
    expect(terminalSize(24, 80)).toEqual({ rows: 24, columns: 80 });
    expect(terminalSize(0, 80)).toBeUndefined();
    expect(terminalSize(undefined, undefined)).toBeUndefined();
  });
});

describe('the exec -i flag', () => {
  it('parses -i and --interactive with the command after it', async () => {
    const calls: Array<{ args: unknown[]; opts: Record<string, unknown> }> = [];
    const record: CommandRunner = async (_file, _fn, _globals, args, opts) => {
      calls.push({ args, opts });
      return 0;
    };
    await buildProgram(record).parseAsync(['node', 'gangway', 'exec', '-i', '--host', 'vm1', 'sh']);
    await buildProgram(record).parseAsync(['node', 'gangway', 'exec', '--interactive', '--reuse', '--', 'sh', '-c', 'echo hi']);
    expect(calls[0]).toEqual({ args: [['sh']], opts: { interactive: true, host: 'vm1' } });
    expect(calls[1]!.args).toEqual([['sh', '-c', 'echo hi']]);
    expect(calls[1]!.opts).toEqual({ interactive: true, reuse: true });
  });
});
