// The credentials of one command's SSH connections, gathered once: the ssh-agent is asked once
// whether it holds keys, each key file is read once, and a passphrase is asked at most once per
// key file (on the terminal, never echoed, kept only as the decrypted key in memory) however
// many hosts use it. prepare() runs before the first connection, so a key that cannot be
// unlocked stops the command before any host is touched.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import ssh2, { type ParsedKey } from 'ssh2';

// ssh2 is CommonJS: its classes come off the default export.
const { OpenSSHAgent, utils } = ssh2;
import { configError, messageOf } from '../errors.js';
import type { HostTarget, JumpTarget } from './host.js';
import { decideAuth, keyFilesFor } from './ssh-auth.js';

export interface Terminal {
  isTty: boolean;
  /** Asks without echo; resolves to what was typed. */
  ask(prompt: string): Promise<string>;
}

const AGENT_PROBE_TIMEOUT_MS = 3000;
const PASSPHRASE_ATTEMPTS = 3;

export const processTerminal = (): Terminal => ({
  isTty: process.stdin.isTTY === true,
  // Imported on the first prompt only: a passphrase is rarely asked, and every command connecting
  // hosts would load `read` (and its readline) for nothing.
  ask: async (prompt) => {
    const { read } = await import('read');
    return read({ prompt, silent: true, replace: '', input: process.stdin, output: process.stderr });
  },
});

type KeyRead = { path: string; encrypted: false; key: ParsedKey } | { path: string; encrypted: true; data: Buffer };

/** What one connection offers, in ssh2's terms: tried in order until one is accepted. */
export type SshAuthMethods = Array<{ type: 'publickey'; username: string; key: ParsedKey } | { type: 'agent'; username: string; agent: string }>;

export class Credentials {
  private agentProbe?: Promise<boolean>;
  private readonly reads = new Map<string, Promise<KeyRead>>();
  private readonly unlocked = new Map<string, Promise<ParsedKey>>();
  // Prompts one after another: two hosts must not ask on the same terminal at once.
  private asking: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: { env: NodeJS.ProcessEnv; terminal?: Terminal; home?: string }) {}

  private get socket(): string | undefined {
    return this.opts.env.SSH_AUTH_SOCK || undefined;
  }

  /** Whether SSH_AUTH_SOCK answers with at least one key; asked once. */
  agentAnswers(): Promise<boolean> {
    const socket = this.socket;
    if (!socket) return Promise.resolve(false);
    this.agentProbe ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), AGENT_PROBE_TIMEOUT_MS);
      new OpenSSHAgent(socket).getIdentities((err, keys) => {
        clearTimeout(timer);
        resolve(!err && (keys?.length ?? 0) > 0);
      });
    });
    return this.agentProbe;
  }

  private readKey(path: string, host: string): Promise<KeyRead> {
    let reading = this.reads.get(path);
    if (!reading) {
      reading = readFile(path).then(
        (data): KeyRead => {
          const parsed = utils.parseKey(data);
          if (parsed instanceof Error) {
            if (/no passphrase given/i.test(parsed.message)) return { path, encrypted: true, data };
            throw configError(`cannot use the SSH identity ${path}: ${parsed.message}`, { host, step: 'connect', hint: 'point the identity at an OpenSSH private key' });
          }
          return { path, encrypted: false, key: Array.isArray(parsed) ? parsed[0]! : parsed };
        },
        (err: unknown) => {
          throw configError(`cannot read the SSH identity ${path}: ${messageOf(err)}`, { host, step: 'connect', hint: 'set ssh.identity (or IdentityFile in the ssh config) to a readable private key' });
        },
      );
      this.reads.set(path, reading);
    }
    return reading;
  }

  private unlock(read: Extract<KeyRead, { encrypted: true }>): Promise<ParsedKey> {
    let unlocking = this.unlocked.get(read.path);
    if (!unlocking) {
      const terminal = this.opts.terminal ?? processTerminal();
      unlocking = this.asking.then(async () => {
        for (let attempt = 1; attempt <= PASSPHRASE_ATTEMPTS; attempt++) {
          const passphrase = await terminal.ask(`Enter passphrase for key ${read.path}: `);
          const parsed = utils.parseKey(read.data, passphrase);
          if (!(parsed instanceof Error)) return Array.isArray(parsed) ? parsed[0]! : parsed;
          if (attempt < PASSPHRASE_ATTEMPTS) process.stderr.write('Wrong passphrase, try again.\n');
        }
        throw configError(`wrong passphrase for the SSH key ${read.path} (${PASSPHRASE_ATTEMPTS} attempts)`, { step: 'connect', hint: `check it with ssh-keygen -y -f ${read.path}, or load the key into ssh-agent (ssh-add ${read.path})` });
      });
      this.asking = unlocking.catch(() => {});
      this.unlocked.set(read.path, unlocking);
    }
    return unlocking;
  }

  /** The methods a host's connection offers; asks for passphrases (once per key file) if it must. */
  async methodsFor(target: HostTarget | JumpTarget): Promise<SshAuthMethods> {
    const agent = await this.agentAnswers();
    const home = this.opts.home ?? homedir();
    const configured = target.identityFiles ?? (target.identityFile ? [target.identityFile] : []);
    const files = keyFilesFor({ identityFiles: configured, agent, home, fileExists: existsSync });
    if (files.kind === 'none') {
      throw configError(`no SSH identity for ${target.name}: no ssh.identity, no IdentityFile in the ssh config, no ssh-agent holding keys, none of ${files.tried.join(', ')}`, {
        host: target.name,
        step: 'connect',
        hint: 'set ssh.identity in gangway.yml or start an ssh-agent and ssh-add your key',
      });
    }
    const reads = files.kind === 'files' ? await Promise.all(files.paths.map((p) => this.readKey(p, target.name))) : [];
    const terminal = this.opts.terminal ?? processTerminal();
    const decision = decideAuth({ keys: reads.map((r) => ({ path: r.path, encrypted: r.encrypted })), agent, identitiesOnly: target.identitiesOnly ?? false, tty: terminal.isTty });
    if (decision.kind === 'needs-agent') {
      const key = decision.keys[0]!;
      throw configError(`the SSH key ${key} (for ${target.name}) is protected by a passphrase, no ssh-agent holds keys (SSH_AUTH_SOCK ${this.socket ? 'does not answer with any' : 'is not set'}) and there is no terminal to ask for it`, {
        host: target.name,
        step: 'connect',
        hint: `load it into ssh-agent: eval "$(ssh-agent)" && ssh-add ${key}, then run gangway again in that shell`,
      });
    }
    const methods: SshAuthMethods = [];
    for (const c of decision.credentials) {
      if (c.kind === 'agent') methods.push({ type: 'agent', username: target.user, agent: this.socket! });
      else {
        const r = reads.find((x) => x.path === c.path)!;
        methods.push({ type: 'publickey', username: target.user, key: r.encrypted ? await this.unlock(r) : r.key });
      }
    }
    return methods;
  }

  /** Every decision (and passphrase) of these targets before any connection: the command's exit 2 comes here. */
  async prepare(targets: Array<HostTarget | JumpTarget>): Promise<void> {
    for (const t of targets) {
      if ('local' in t && t.local) continue;
      await this.methodsFor(t);
    }
  }
}

