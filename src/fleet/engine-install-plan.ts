// What `gangway setup` runs to get a Docker engine on a bare Debian host, as data: one probe
// script, a pure decision from its answer, and the privileged scripts that install, configure
// and start the engine. The executor is engine-install.ts.
import { GANGWAY_STATE_DIR, probeLine, probeValues, shellQuote, type ShellCommand } from '../state/shell.js';

/** Where the engine's output goes when gangway starts dockerd itself (no systemd on the host). */
export const DOCKERD_LOG_PATH = '/var/log/gangway-dockerd.log';
export const DAEMON_JSON_PATH = '/etc/docker/daemon.json';
/** Debian's package: dockerd, containerd, runc and the docker CLI that `docker system dial-stdio` needs. */
export const DOCKER_PACKAGE = 'docker.io';

/** How the probe's lines start, so stray shell output (a motd, a profile's echo) is ignored. */
const PROBE_PREFIX = 'gangway-probe ';

/**
 * Runs as the SSH user, without sudo, and changes nothing: who we are, whether the docker CLI
 * and engine answer, whether we may become root without a password, and what the host offers
 * (apt, systemd).
 */
export function probeDockerCommand(): ShellCommand {
  const say = (key: string, value: string) => probeLine(PROBE_PREFIX, key, value);
  return {
    command: [
      `${say('user', '$(id -un)')}`,
      `${say('uid', '$(id -u)')}`,
      `if command -v docker >/dev/null 2>&1; then ${say('cli', 'yes')}; else ${say('cli', 'no')}; fi`,
      // `docker --version` answers without an engine; the server's version proves one serves us.
      // (`docker info --format` hides a refused socket behind a template error.)
      'if out=$(docker version --format "{{.Server.Version}}" 2>&1); then engine=running; ' +
        'else case "$out" in *"permission denied"*) engine=denied;; *) engine=stopped;; esac; fi',
      `${say('engine', '$engine')}`,
      'if [ -x /usr/sbin/dockerd ] || command -v dockerd >/dev/null 2>&1; then dockerd=yes; else dockerd=no; fi',
      `${say('dockerd', '$dockerd')}`,
      'if [ "$(id -u)" = 0 ]; then priv=root; elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then priv=sudo; else priv=none; fi',
      `${say('privilege', '$priv')}`,
      `if command -v apt-get >/dev/null 2>&1; then ${say('apt', 'yes')}; else ${say('apt', 'no')}; fi`,
      `if [ -d /run/systemd/system ]; then ${say('systemd', 'yes')}; else ${say('systemd', 'no')}; fi`,
      `if id -nG 2>/dev/null | tr ' ' '\\n' | grep -qx docker; then ${say('docker_group', 'yes')}; else ${say('docker_group', 'no')}; fi`,
      `${say('os', '$(. /etc/os-release 2>/dev/null; echo "${ID:-unknown}")')}`,
      // Locks, audit log, env files and the proxy config live there; the SSH user must own it.
      `if [ -w ${GANGWAY_STATE_DIR} ] || { [ ! -e ${GANGWAY_STATE_DIR} ] && [ -w ${GANGWAY_STATE_DIR.replace(/\/[^/]+$/, '')} ]; }; then ${say('state_dir', 'yes')}; else ${say('state_dir', 'no')}; fi`,
    ].join('\n'),
  };
}

export type EngineState = 'running' | 'stopped' | 'denied';
export type Privilege = 'root' | 'sudo' | 'none';

export interface DockerProbe {
  user: string;
  uid: number;
  /** The docker CLI is on PATH. */
  cli: boolean;
  /** `docker info` as the SSH user: answers, fails (no engine), or is refused (socket permissions). */
  engine: EngineState;
  dockerd: boolean;
  privilege: Privilege;
  apt: boolean;
  systemd: boolean;
  /** The SSH user is in the docker group (as /etc/group says now, not as this session has it). */
  dockerGroup: boolean;
  /** ID from /etc/os-release: debian, ubuntu... */
  os: string;
  /** The SSH user may write gangway's state directory (or create it). */
  stateDirWritable: boolean;
}

/** Reads the probe's output; a line it does not know is ignored, a missing one reads as "no". */
export function parseDockerProbe(stdout: string): DockerProbe {
  const values = probeValues(stdout, PROBE_PREFIX);
  const yes = (key: string) => values.get(key) === 'yes';
  const engine = values.get('engine');
  const privilege = values.get('privilege');
  return {
    user: values.get('user') ?? '',
    uid: Number(values.get('uid') ?? NaN),
    cli: yes('cli'),
    engine: engine === 'running' || engine === 'denied' ? engine : 'stopped',
    dockerd: yes('dockerd'),
    privilege: privilege === 'root' || privilege === 'sudo' ? privilege : 'none',
    apt: yes('apt'),
    systemd: yes('systemd'),
    dockerGroup: yes('docker_group'),
    os: values.get('os') || 'unknown',
    stateDirWritable: yes('state_dir'),
  };
}

export type ProvisionStep =
  /** Write daemon.json (insecure registries) before the engine first starts. */
  | 'configure'
  /** apt-get install docker.io. */
  | 'install'
  /** Start dockerd (systemctl, or in the background) and wait until it answers. */
  | 'start'
  /** Add the SSH user to the docker group, then reconnect so the new group applies. */
  | 'grant'
  /** Give the SSH user gangway's state directory (locks, audit, env files, proxy config). */
  | 'state-dir';

export type ProvisionPlan =
  | { kind: 'ready' }
  | { kind: 'steps'; steps: ProvisionStep[]; privilege: 'root' | 'sudo' }
  | { kind: 'refused'; reason: string; hint: string };

export interface ProvisionPolicy {
  /** docker.install in the config: false forbids installing (starting is still allowed). */
  install: boolean;
  insecureRegistries: string[];
}

/** The shell line the hint tells a human to run, for a user who may not do it through gangway. */
export function manualInstallHint(user: string): string {
  return `as root on the host: apt-get update && apt-get install -y ${DOCKER_PACKAGE}, start the engine, usermod -aG docker ${user} and chown -R ${user} ${GANGWAY_STATE_DIR}; or give ${user} passwordless sudo, then run gangway setup again`;
}

/** Decides what the host needs. Pure: the probe in, the steps (or why not) out. */
export function planDockerProvision(probe: DockerProbe, policy: ProvisionPolicy): ProvisionPlan {
  const needStateDir = !probe.stateDirWritable;
  if (probe.engine === 'running' && !needStateDir) return { kind: 'ready' };
  const needInstall = probe.engine !== 'running' && (!probe.cli || !probe.dockerd);
  const needStart = probe.engine === 'stopped';
  // "denied" means an engine runs but the socket refuses this user: only the group is missing.
  const needGrant = probe.engine !== 'running' && probe.uid !== 0 && !probe.dockerGroup;
  const missing = needInstall
    ? 'Docker is not installed'
    : needStart
      ? 'the Docker engine is not running'
      : probe.engine === 'denied'
        ? `${probe.user} may not use the Docker engine`
        : `${probe.user} may not write ${GANGWAY_STATE_DIR}`;
  if (probe.privilege === 'none') {
    return { kind: 'refused', reason: `${missing}, and ${probe.user} is not root and has no passwordless sudo`, hint: manualInstallHint(probe.user) };
  }
  if (needInstall && !policy.install) {
    return { kind: 'refused', reason: `${missing} and docker.install is false in the config`, hint: `install ${DOCKER_PACKAGE} on the host, or set docker.install: true` };
  }
  if (needInstall && !probe.apt) {
    return { kind: 'refused', reason: `${missing} and the host has no apt-get (gangway installs Debian's ${DOCKER_PACKAGE} only)`, hint: 'install Docker Engine with the distribution\'s own tools, then run gangway setup again' };
  }
  const steps: ProvisionStep[] = [];
  if ((needInstall || needStart) && policy.insecureRegistries.length > 0) steps.push('configure');
  if (needInstall) steps.push('install');
  if (needInstall || needStart) steps.push('start');
  if (needStateDir) steps.push('state-dir');
  if (needGrant) steps.push('grant');
  return { kind: 'steps', steps, privilege: probe.privilege };
}

/** Runs a script as root: directly for root, through `sudo -n` (never a password prompt) otherwise. */
export function privilegedCommand(script: string, privilege: 'root' | 'sudo'): ShellCommand {
  return { command: privilege === 'root' ? 'sh -s' : 'sudo -n sh -s', stdin: script };
}

export function daemonJson(insecureRegistries: string[]): string {
  return `${JSON.stringify({ 'insecure-registries': [...insecureRegistries] }, null, 2)}\n`;
}

/**
 * Writes daemon.json only when there is none: an operator's file is theirs. A file that lacks
 * one of the registries is reported (as a WARN line) instead of being rewritten.
 */
export function configureScript(insecureRegistries: string[]): string {
  const lines = ['set -eu', 'mkdir -p /etc/docker', `if [ ! -e ${DAEMON_JSON_PATH} ]; then`, `cat > ${DAEMON_JSON_PATH} <<'GANGWAY_EOF'`, daemonJson(insecureRegistries).trimEnd(), 'GANGWAY_EOF', 'else'];
  for (const r of insecureRegistries) {
    lines.push(`  grep -qF ${shellQuote(`"${r}"`)} ${DAEMON_JSON_PATH} || echo ${shellQuote(`WARN ${DAEMON_JSON_PATH} exists and does not list ${r} as an insecure registry; add it there`)}`);
  }
  lines.push('  :', 'fi', '');
  return lines.join('\n');
}

/** apt-get without prompts and without recommends (git, apparmor...: not what the engine needs). */
export function installScript(): string {
  return [
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive',
    'apt-get update -q',
    `apt-get install -y -q --no-install-recommends ${DOCKER_PACKAGE}`,
    '',
  ].join('\n');
}

export interface StartOptions {
  /** How long the script waits for `docker info` to answer. */
  waitMs: number;
}

/**
 * Starts the engine: through systemd where it runs (the package's unit), else dockerd in the
 * background, detached from the SSH session so it outlives it (containers and sandbox hosts
 * have no systemd). Then waits until `docker info` answers, printing the log's tail if not.
 */
export function startScript(opts: StartOptions): string {
  const tries = Math.max(1, Math.ceil(opts.waitMs / 500));
  return [
    'set -u',
    'if docker info >/dev/null 2>&1; then echo "engine already running"; exit 0; fi',
    'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then',
    '  systemctl enable --now docker >/dev/null 2>&1 || systemctl start docker',
    'else',
    `  setsid nohup dockerd >>${DOCKERD_LOG_PATH} 2>&1 </dev/null &`,
    'fi',
    `i=0; while [ $i -lt ${tries} ]; do`,
    '  if docker info >/dev/null 2>&1; then echo "engine running"; exit 0; fi',
    '  i=$((i + 1)); sleep 0.5',
    'done',
    `echo "dockerd did not answer within ${opts.waitMs} ms" >&2`,
    `tail -n 15 ${DOCKERD_LOG_PATH} >&2 2>/dev/null || journalctl -u docker -n 15 --no-pager >&2 2>/dev/null || :`,
    'exit 1',
    '',
  ].join('\n');
}

export function grantScript(user: string): string {
  return ['set -eu', `usermod -aG docker ${shellQuote(user)}`, ''].join('\n');
}

/**
 * Owns the whole tree: a root deploy before may have left root-owned files the user must now
 * write. Sockets stay whose they are: the proxy's admin socket is the proxy uid's and the docker
 * group's (src/proxy/README.md, "Unprivileged"); the user reaches it through that group.
 */
export function stateDirScript(user: string): string {
  return ['set -eu', `mkdir -p ${GANGWAY_STATE_DIR}`, `find ${GANGWAY_STATE_DIR} ! -type s -exec chown ${shellQuote(user)} {} +`, `chmod 755 ${GANGWAY_STATE_DIR}`, ''].join('\n');
}

/** The script of one step (run through privilegedCommand). */
export function stepScript(step: ProvisionStep, ctx: { user: string; insecureRegistries: string[]; startWaitMs: number }): string {
  switch (step) {
    case 'configure':
      return configureScript(ctx.insecureRegistries);
    case 'install':
      return installScript();
    case 'start':
      return startScript({ waitMs: ctx.startWaitMs });
    case 'grant':
      return grantScript(ctx.user);
    case 'state-dir':
      return stateDirScript(ctx.user);
  }
}
