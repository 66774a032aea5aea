// Which credentials an SSH connection offers, decided in two pure steps: which key files to read
// (configured ones, else the agent, else the usual default keys), then, once they are read, what
// to offer and which encrypted keys need a passphrase. Reading files, asking the agent and the
// terminal happen in credentials.ts.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function expandHome(path: string, home: string = homedir()): string {
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

export type KeyFilesChoice = { kind: 'files'; paths: string[] } | { kind: 'agent-only' } | { kind: 'none'; tried: string[] };

export interface KeyFilesInputs {
  /** Configured identity files in order (per host, else ssh:, else the ssh config). */
  identityFiles: string[];
  /** An ssh-agent answered (SSH_AUTH_SOCK set and it listed at least one key). */
  agent: boolean;
  home: string;
  fileExists: (path: string) => boolean;
}

export function keyFilesFor({ identityFiles, agent, home, fileExists }: KeyFilesInputs): KeyFilesChoice {
  // A configured key is used even if missing, so the error names the file the user wrote.
  if (identityFiles.length > 0) return { kind: 'files', paths: identityFiles.map((p) => expandHome(p, home)) };
  if (agent) return { kind: 'agent-only' };
  const defaults = ['id_ed25519', 'id_rsa'].map((f) => join(home, '.ssh', f));
  const found = defaults.find(fileExists);
  return found ? { kind: 'files', paths: [found] } : { kind: 'none', tried: defaults };
}

export type Credential = { kind: 'key'; path: string } | { kind: 'agent' };

export type AuthDecision =
  /** Offer these, in order; `unlock`: encrypted keys whose passphrase the terminal must give first. */
  | { kind: 'offer'; credentials: Credential[]; unlock: string[] }
  /** Encrypted keys, no agent holding keys, no terminal to ask on, and nothing else to offer. */
  | { kind: 'needs-agent'; keys: string[] };

export interface AuthInputs {
  keys: { path: string; encrypted: boolean }[];
  agent: boolean;
  /** IdentitiesOnly: the agent is offered only to stand in for an encrypted key file. */
  identitiesOnly: boolean;
  /** A terminal to ask a passphrase on. */
  tty: boolean;
}

/**
 * An agent that answers is preferred to asking: an encrypted key file is then not opened (the
 * agent is expected to hold it: `ssh-add`). Plain key files come first, in the order configured,
 * as OpenSSH offers the keys named in the config; the agent's keys follow unless IdentitiesOnly.
 */
export function decideAuth({ keys, agent, identitiesOnly, tty }: AuthInputs): AuthDecision {
  const credentials: Credential[] = [];
  const unlock: string[] = [];
  const locked: string[] = [];
  let agentStandsIn = false;
  for (const key of keys) {
    if (!key.encrypted) credentials.push({ kind: 'key', path: key.path });
    else if (agent) agentStandsIn = true;
    else if (tty) {
      unlock.push(key.path);
      credentials.push({ kind: 'key', path: key.path });
    } else locked.push(key.path);
  }
  if (agent && (agentStandsIn || !identitiesOnly || keys.length === 0)) credentials.push({ kind: 'agent' });
  if (credentials.length === 0 && locked.length > 0) return { kind: 'needs-agent', keys: locked };
  return { kind: 'offer', credentials, unlock };
}
