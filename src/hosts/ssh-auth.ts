// Which credential an SSH connection uses: the configured key, else the running ssh-agent, else
// the usual default keys. The choice is pure; reading the key file happens in the caller.
import { homedir } from 'node:os';
import { join } from 'node:path';

export type SshAuthChoice =
  | { kind: 'key'; path: string }
  | { kind: 'agent'; socket: string }
  | { kind: 'none'; tried: string[] };

export interface SshAuthInputs {
  /** Configured identity file (per host, else the ssh section); `~` already expanded or not. */
  identityFile?: string;
  env: NodeJS.ProcessEnv;
  home: string;
  fileExists: (path: string) => boolean;
}

export function expandHome(path: string, home: string = homedir()): string {
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

export function chooseSshAuth({ identityFile, env, home, fileExists }: SshAuthInputs): SshAuthChoice {
  // A configured key is used even if missing, so the error names the file the user wrote.
  if (identityFile) return { kind: 'key', path: expandHome(identityFile, home) };
  if (env.SSH_AUTH_SOCK) return { kind: 'agent', socket: env.SSH_AUTH_SOCK };
  const defaults = ['id_ed25519', 'id_rsa'].map((f) => join(home, '.ssh', f));
  const found = defaults.find(fileExists);
  return found ? { kind: 'key', path: found } : { kind: 'none', tried: defaults };
}
