// `gangway init`: scaffold a config that deploys to this machine, an uptest, the secrets file
// and an example hook. The files are data (scaffoldFiles); run() only writes them.
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { usageError } from '../../errors.js';
import { runCommand, type GlobalOptions } from '../context.js';

export interface ScaffoldFile {
  /** Relative to the folder of the config file. */
  path: string;
  content: string;
  mode: number;
  /** Kept as it is when it exists, even with --force (it holds the user's secrets). */
  keepExisting?: boolean;
}

export const SECRETS_PATH = '.gangway/secrets';

/** A service name the schema accepts, from a folder name: "My App" -> "my-app". */
export function serviceNameFrom(folder: string): string {
  const cleaned = folder.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '');
  return cleaned || 'app';
}

export function configTemplate(service: string): string {
  return `# gangway.yml: how to ship ${service} to its hosts. Every key is described in gangway's
# schema/gangway.schema.json; for completion in editors that use yaml-language-server, add:
#   # yaml-language-server: $schema=<gangway's folder>/schema/gangway.schema.json

service: ${service}                  # containers are named <service>-<role>-<version>
image: ${service}                    # for remote hosts: registry.example.com/acme/${service}

# registry:                         # where images are pushed to and pulled from
#   server: registry.example.com
#   username: acme
#   password: \${REGISTRY_PASSWORD}  # from the environment or .gangway/secrets

servers:                            # roles; the first one is the primary role, behind the proxy
  web:
    hosts: [localhost]              # localhost = this machine's Docker engine, no SSH
  # workers:
  #   hosts: [vm3]
  #   cmd: [bin/jobs]

# hosts:                            # connection details by host name (optional)
#   vm3: { address: 192.0.2.10, port: 22, user: deploy }

# ssh:
#   user: root
#   identity: ~/.ssh/id_ed25519

proxy:
  app_port: 80                      # the port the app listens on inside its container
  healthcheck: { path: /up, interval: 1s, timeout: 5s }

uptests: { path: uptests, timeout: 60s }   # inside the image: uptests/<role>/*, args <host> <port>

env:
  clear: {}                         # e.g. { MODE: production }
  secret: []                        # names read from the environment or .gangway/secrets

deploy_timeout: 30s                 # how long a new container may take to become healthy
drain_timeout: 30s                  # how long old requests may take before the old container stops
retain: 5                           # old versions kept per host for rollbacks
boot: { limit: 100%, wait: 0s }     # hosts of a role deployed at once (count or percentage)
`;
}

const UPTEST = `#!/bin/sh
# Uptest of the web role. gangway runs it inside the app's own image, on the app's network and
# with the app's environment, as: 01-up <host> <port>. Exit 0 passes; anything else stops the
# deploy before the proxy switches, and this output is shown.
set -eu
wget -q -O- "http://$1:$2/up"
`;

const HOOK_SAMPLE = `#!/bin/sh
# Example hook. To use it, rename it to pre-deploy and make it executable (chmod +x).
# A hook runs on the machine that runs gangway. pre-deploy runs while the deploy holds its lock
# (deploy, rollback and setup), before anything changes on the hosts; a non-zero exit stops the
# deploy there. GANGWAY_SERVICE, GANGWAY_VERSION, GANGWAY_COMMAND... describe it (docs/hooks.md).
set -eu
echo "about to deploy \${GANGWAY_SERVICE:-?} \${GANGWAY_VERSION:-?}"
`;

export function scaffoldFiles(service: string, configFileName = 'gangway.yml'): ScaffoldFile[] {
  return [
    { path: configFileName, content: configTemplate(service), mode: 0o644 },
    { path: 'uptests/web/01-up', content: UPTEST, mode: 0o755 },
    { path: SECRETS_PATH, content: '', mode: 0o600, keepExisting: true },
    { path: '.gangway/hooks/pre-deploy.sample', content: HOOK_SAMPLE, mode: 0o644 },
  ];
}

/** .gitignore text with `entry` present exactly once; undefined when nothing must change. */
export function gitignoreWith(current: string | undefined, entry: string): string | undefined {
  const lines = (current ?? '').split(/\r?\n/).map((l) => l.trim());
  if (lines.includes(entry) || lines.includes(`/${entry}`)) return undefined;
  if (!current) return `${entry}\n`;
  return `${current}${current.endsWith('\n') ? '' : '\n'}${entry}\n`;
}

const exists = async (path: string) => stat(path).then(() => true, () => false);

export async function run(globals: GlobalOptions, _args: unknown[], cmdOpts: Record<string, unknown>): Promise<number> {
  return runCommand('init', globals, async (ctx) => {
    const configFile = resolve(ctx.cwd, ctx.opts.config);
    const dir = dirname(configFile);
    const shown = (p: string) => relative(ctx.cwd, join(dir, p)) || p;
    const files = scaffoldFiles(serviceNameFrom(basename(dir)), basename(configFile));

    const existing: ScaffoldFile[] = [];
    for (const f of files) if (await exists(join(dir, f.path))) existing.push(f);
    const conflicts = existing.filter((f) => !f.keepExisting);
    if (conflicts.length > 0 && cmdOpts.force !== true) {
      const names = conflicts.map((f) => shown(f.path)).join(', ');
      throw usageError(`${names} already exist${conflicts.length === 1 ? 's' : ''}; nothing was written`, { hint: 'use --force to overwrite' });
    }

    for (const f of files) {
      const target = join(dir, f.path);
      if (f.keepExisting && existing.includes(f)) {
        ctx.events.log(`kept ${shown(f.path)}`);
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, f.content, { mode: f.mode });
      await chmod(target, f.mode); // writeFile's mode applies only to new files (and the umask)
      ctx.events.log(`wrote ${shown(f.path)}`);
    }

    const gitignore = join(dir, '.gitignore');
    const current = await readFile(gitignore, 'utf8').catch(() => undefined);
    const updated = gitignoreWith(current, SECRETS_PATH);
    if (updated !== undefined) {
      await writeFile(gitignore, updated);
      ctx.events.log(`${current === undefined ? 'wrote' : 'updated'} ${shown('.gitignore')} (ignores ${SECRETS_PATH})`);
    }
    ctx.events.emit({ type: 'done', ok: true, command: 'init', message: `ready: edit ${shown(basename(configFile))}, then run gangway config`, exitCode: 0 });
    return 0;
  });
}
