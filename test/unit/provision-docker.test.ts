import { describe, expect, it } from 'vitest';
import {
  configureScript, daemonJson, grantScript, installScript, manualInstallHint, parseDockerProbe, planDockerProvision,
  privilegedCommand, probeDockerCommand, startScript, stateDirScript, stepScript, type DockerProbe,
} from '../../src/fleet/engine-install-plan.js';

const bare: DockerProbe = { user: 'root', uid: 0, cli: false, engine: 'stopped', dockerd: false, privilege: 'root', apt: true, systemd: false, dockerGroup: false, os: 'debian', stateDirWritable: true };
const policy = { install: true, insecureRegistries: ['registry:5000'] };

describe('parseDockerProbe', () => {
  it('reads the probe lines and ignores anything a login shell prints around them', () => {
    const out = [
      'Welcome to the host!',
      'gangway-probe user=deployer',
      'gangway-probe uid=1001',
      'gangway-probe cli=yes',
      'gangway-probe engine=denied',
      'gangway-probe dockerd=yes',
      'gangway-probe privilege=sudo',
      'gangway-probe apt=yes',
      'gangway-probe systemd=no',
      'gangway-probe docker_group=no',
      'gangway-probe os=debian',
      'gangway-probe state_dir=no',
    ].join('\n');
    expect(parseDockerProbe(out)).toEqual({ user: 'deployer', uid: 1001, cli: true, engine: 'denied', dockerd: true, privilege: 'sudo', apt: true, systemd: false, dockerGroup: false, os: 'debian', stateDirWritable: false });
  });

  it('reads missing or unknown values as the cautious answer', () => {
    const p = parseDockerProbe('gangway-probe engine=weird\ngangway-probe privilege=maybe\n');
    expect(p.engine).toBe('stopped');
    expect(p.privilege).toBe('none');
    expect(p.cli).toBe(false);
    expect(p.os).toBe('unknown');
  });
});

describe('probeDockerCommand', () => {
  it('asks the server\'s version (not the CLI\'s) and sudo without a prompt', () => {
    const { command, stdin } = probeDockerCommand();
    expect(command).toContain('docker version --format "{{.Server.Version}}"');
    expect(command).toContain('*"permission denied"*) engine=denied');
    expect(command).toContain('sudo -n true');
    expect(command).not.toMatch(/apt-get (update|install)/);
    expect(stdin).toBeUndefined();
  });
});

describe('planDockerProvision', () => {
  it.each<[string, Partial<DockerProbe>, Partial<typeof policy>, unknown]>([
    ['nothing to do when the engine answers', { cli: true, dockerd: true, engine: 'running' }, {}, { kind: 'ready' }],
    ['root on a bare host: configure, install, start', {}, {}, { kind: 'steps', steps: ['configure', 'install', 'start'], privilege: 'root' }],
    ['no registries: no daemon.json', {}, { insecureRegistries: [] }, { kind: 'steps', steps: ['install', 'start'], privilege: 'root' }],
    ['a sudoer also joins the docker group', { user: 'ops', uid: 1000, privilege: 'sudo' }, {}, { kind: 'steps', steps: ['configure', 'install', 'start', 'grant'], privilege: 'sudo' }],
    ['a sudoer already in the group is not granted again', { user: 'ops', uid: 1000, privilege: 'sudo', dockerGroup: true }, {}, { kind: 'steps', steps: ['configure', 'install', 'start'], privilege: 'sudo' }],
    ['installed but stopped: start only', { cli: true, dockerd: true }, { insecureRegistries: [] }, { kind: 'steps', steps: ['start'], privilege: 'root' }],
    ['engine runs but refuses the user: grant only', { user: 'ops', uid: 1000, privilege: 'sudo', cli: true, dockerd: true, engine: 'denied' }, {}, { kind: 'steps', steps: ['grant'], privilege: 'sudo' }],
    ['a sudoer on a bare host also gets the state directory', { user: 'ops', uid: 1000, privilege: 'sudo', stateDirWritable: false }, { insecureRegistries: [] }, { kind: 'steps', steps: ['install', 'start', 'state-dir', 'grant'], privilege: 'sudo' }],
    ['engine fine but the state directory is root\'s: state-dir only', { user: 'ops', uid: 1000, privilege: 'sudo', cli: true, dockerd: true, engine: 'running', dockerGroup: true, stateDirWritable: false }, {}, { kind: 'steps', steps: ['state-dir'], privilege: 'sudo' }],
    ['the CLI without dockerd is installed again', { cli: true, dockerd: false }, { insecureRegistries: [] }, { kind: 'steps', steps: ['install', 'start'], privilege: 'root' }],
  ])('%s', (_name, probe, pol, expected) => {
    expect(planDockerProvision({ ...bare, ...probe }, { ...policy, ...pol })).toEqual(expected);
  });

  it('refuses a user who is neither root nor a passwordless sudoer, and says what to run', () => {
    const plan = planDockerProvision({ ...bare, user: 'deployer', uid: 1001, privilege: 'none' }, policy);
    expect(plan).toEqual({ kind: 'refused', reason: 'Docker is not installed, and deployer is not root and has no passwordless sudo', hint: manualInstallHint('deployer') });
    expect(manualInstallHint('deployer')).toContain('apt-get install -y docker.io');
    expect(manualInstallHint('deployer')).toContain('usermod -aG docker deployer');
  });

  it('names what is missing when it refuses', () => {
    const stopped = planDockerProvision({ ...bare, cli: true, dockerd: true, user: 'd', uid: 5, privilege: 'none' }, policy);
    expect(stopped.kind === 'refused' && stopped.reason).toMatch(/^the Docker engine is not running/);
    const denied = planDockerProvision({ ...bare, cli: true, dockerd: true, engine: 'denied', user: 'd', uid: 5, privilege: 'none' }, policy);
    expect(denied.kind === 'refused' && denied.reason).toMatch(/^d may not use the Docker engine/);
    const state = planDockerProvision({ ...bare, cli: true, dockerd: true, engine: 'running', user: 'd', uid: 5, privilege: 'none', stateDirWritable: false }, policy);
    expect(state.kind === 'refused' && state.reason).toMatch(/^d may not write \/var\/lib\/gangway/);
  });

  it('refuses to install when docker.install is false, or without apt-get', () => {
    expect(planDockerProvision(bare, { ...policy, install: false })).toMatchObject({ kind: 'refused', reason: expect.stringContaining('docker.install is false') });
    expect(planDockerProvision({ ...bare, apt: false }, policy)).toMatchObject({ kind: 'refused', reason: expect.stringContaining('no apt-get') });
    // Starting an installed engine is allowed with install: false.
    expect(planDockerProvision({ ...bare, cli: true, dockerd: true }, { ...policy, install: false })).toMatchObject({ kind: 'steps', steps: ['configure', 'start'] });
  });
});

describe('privileged scripts', () => {
  it('runs as root directly, or through sudo -n (never a password prompt), with the script on stdin', () => {
    expect(privilegedCommand('echo hi', 'root')).toEqual({ command: 'sh -s', stdin: 'echo hi' });
    expect(privilegedCommand('echo hi', 'sudo')).toEqual({ command: 'sudo -n sh -s', stdin: 'echo hi' });
  });

  it('installs Debian\'s docker.io without prompts or recommends', () => {
    const s = installScript();
    expect(s).toContain('export DEBIAN_FRONTEND=noninteractive');
    expect(s).toContain('apt-get update');
    expect(s).toContain('apt-get install -y -q --no-install-recommends docker.io');
    expect(s.split('\n')[0]).toBe('set -eu');
  });

  it('writes daemon.json only when there is none, and warns about a file without the registry', () => {
    const s = configureScript(['registry:5000']);
    expect(daemonJson(['registry:5000'])).toBe('{\n  "insecure-registries": [\n    "registry:5000"\n  ]\n}\n');
    expect(s).toContain('if [ ! -e /etc/docker/daemon.json ]; then');
    expect(s).toContain(`cat > /etc/docker/daemon.json <<'GANGWAY_EOF'`);
    expect(s).toContain(`grep -qF '"registry:5000"' /etc/docker/daemon.json || echo 'WARN /etc/docker/daemon.json exists and does not list registry:5000`);
  });

  it('starts through systemd where it runs, else a detached dockerd, and waits for docker info', () => {
    const s = startScript({ waitMs: 10_000 });
    expect(s).toContain('systemctl enable --now docker');
    expect(s).toContain('setsid nohup dockerd >>/var/log/gangway-dockerd.log 2>&1 </dev/null &');
    expect(s).toContain('while [ $i -lt 20 ]; do');
    expect(s).toContain('exit 1');
  });

  it('quotes the user it adds to the docker group', () => {
    expect(grantScript('ops')).toContain('usermod -aG docker ops');
    expect(grantScript("o'x")).toContain(`usermod -aG docker 'o'\\''x'`);
  });

  it('hands the user the whole state directory', () => {
    // Everything but sockets: the proxy's admin socket stays the proxy uid's.
    expect(stateDirScript('ops')).toBe('set -eu\nmkdir -p /var/lib/gangway\nfind /var/lib/gangway ! -type s -exec chown ops {} +\nchmod 755 /var/lib/gangway\n');
  });

  it('maps each step to its script', () => {
    const ctx = { user: 'ops', insecureRegistries: ['r:5000'], startWaitMs: 1000 };
    expect(stepScript('install', ctx)).toBe(installScript());
    expect(stepScript('configure', ctx)).toBe(configureScript(['r:5000']));
    expect(stepScript('start', ctx)).toBe(startScript({ waitMs: 1000 }));
    expect(stepScript('grant', ctx)).toBe(grantScript('ops'));
    expect(stepScript('state-dir', ctx)).toBe(stateDirScript('ops'));
  });
});
