// The env file on a host: the record of what an app container was given (clear + secret values),
// written 0600 in a 0700 directory, content through stdin so no value is ever on a command line.
import { configError } from '../errors.js';
import { deploymentKey, type Deployment } from '../state/deployment.js';
import { GANGWAY_STATE_DIR, shellQuote, type ShellCommand } from '../state/shell.js';

export const ENV_DIR = `${GANGWAY_STATE_DIR}/env`;

/** `hello-web.env`, `hello@staging-web.env`: one file per deployment and role (see deploymentKey). */
export function envFilePath(d: Deployment, role: string): string {
  return `${ENV_DIR}/${deploymentKey(d)}-${role}.env`;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `KEY=value` lines, sorted, in the format `docker run --env-file` reads (no quoting, one line per
 * variable), so an operator can reuse the file by hand. That format cannot hold a newline, so a
 * value with one is refused — naming the key, never the value.
 */
export function renderEnvFile(env: Record<string, string>): string {
  const lines: string[] = [];
  for (const key of Object.keys(env).sort()) {
    if (!ENV_KEY.test(key)) throw configError(`env variable name ${JSON.stringify(key)} is not valid`, { step: 'env' });
    const value = env[key]!;
    if (/[\r\n\0]/.test(value)) {
      throw configError(`the value of ${key} contains a line break, which an env file cannot hold`, {
        step: 'env',
        hint: 'encode multi-line values (e.g. base64) and decode them in the app',
      });
    }
    lines.push(`${key}=${value}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/**
 * Writes the file atomically (temp file + rename) with umask 077, so it is never readable by
 * others, not even for an instant; the directory is forced to 0700 in case it pre-existed.
 */
export function writeEnvFileCommand(path: string, env: Record<string, string>): ShellCommand {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  const tmp = `${path}.tmp`;
  return {
    command: [
      'umask 077',
      `mkdir -p ${shellQuote(dir)}`,
      `chmod 700 ${shellQuote(dir)}`,
      `cat > ${shellQuote(tmp)}`,
      `chmod 600 ${shellQuote(tmp)}`,
      `mv -f ${shellQuote(tmp)} ${shellQuote(path)}`,
    ].join(' && '),
    stdin: renderEnvFile(env),
  };
}

export function readEnvFileCommand(path: string): ShellCommand {
  return { command: `cat ${shellQuote(path)}` };
}

export function removeEnvFileCommand(path: string): ShellCommand {
  return { command: `rm -f ${shellQuote(path)}` };
}
