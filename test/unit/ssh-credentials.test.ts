// Credentials with a stand-in terminal: a passphrase asked once per key file however many hosts
// use it, a wrong one refused with a clear message, and no terminal naming ssh-add.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Credentials, type Terminal } from '../../src/hosts/credentials.js';
import type { HostTarget } from '../../src/hosts/host.js';

const dir = mkdtempSync(join(tmpdir(), 'gangway-cred-'));
const key = join(dir, 'locked');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const target = (name: string): HostTarget => ({ name, address: name, port: 22, user: 'root', identityFile: key, local: false });

function terminal(answers: string[], isTty = true): Terminal & { asked: string[] } {
  const asked: string[] = [];
  return { isTty, asked, ask: async (prompt) => { asked.push(prompt); return answers.shift() ?? ''; } };
}

describe('Credentials', () => {
  it('asks once per key file for many hosts, and offers the decrypted key', async () => {
    const t = terminal(['open sesame']);
    const c = new Credentials({ env: {}, terminal: t, home: dir });
    await c.prepare([target('a'), target('b'), target('c')]);
    const methods = await c.methodsFor(target('b'));
    expect(t.asked).toEqual([`Enter passphrase for key ${key}: `]);
    expect(methods.map((m) => m.type)).toEqual(['publickey']);
  });

  it('a wrong passphrase, three times: a clear error naming the key', async () => {
    const t = terminal(['no', 'nope', 'never']);
    const c = new Credentials({ env: {}, terminal: t, home: dir });
    await expect(c.prepare([target('a'), target('b')])).rejects.toThrow(`wrong passphrase for the SSH key ${key} (3 attempts)`);
    expect(t.asked).toHaveLength(3);
  });

  it('no terminal and no agent: a config error naming the key and ssh-add', async () => {
    const c = new Credentials({ env: {}, terminal: terminal([], false), home: dir });
    const err = (await c.prepare([target('a')]).then(() => undefined, (e: unknown) => e)) as { code: string; message: string; hint: string };
    expect(err.code).toBe('config');
    expect(err.message).toContain(`the SSH key ${key} (for a) is protected by a passphrase`);
    expect(err.hint).toContain(`ssh-add ${key}`);
  });
});
