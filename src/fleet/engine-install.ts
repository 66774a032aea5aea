// The executor of engine-install-plan.ts: probe a host over its SSH exec, run the planned steps with
// root rights, and hand back a host whose Docker API answers.
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import {
  parseDockerProbe, planDockerProvision, privilegedCommand, probeDockerCommand, stepScript,
  type DockerProbe, type ProvisionPolicy, type ProvisionStep,
} from './engine-install-plan.js';

export interface ProvisionOptions extends ProvisionPolicy {
  /** How long dockerd may take to answer once started. */
  startWaitMs?: number;
  /** apt-get update + install. */
  installTimeoutMs?: number;
}

export interface ProvisionOutcome {
  host: string;
  /** Steps that ran; empty when Docker already answered. */
  steps: ProvisionStep[];
  /** Engine version once it answers. */
  dockerVersion: string;
  durationMs: number;
  stepMs: Partial<Record<ProvisionStep, number>>;
}

const PROBE_TIMEOUT_MS = 30_000;

export async function probeDocker(host: Host): Promise<DockerProbe> {
  const cmd = probeDockerCommand();
  const r = await host.exec(cmd.command, { timeoutMs: PROBE_TIMEOUT_MS });
  // A shell that could not run at all prints no probe lines; anything else is an answer.
  if (r.code !== 0 && !r.stdout.includes('gangway-probe')) {
    throw operationError(`could not probe ${host.name} for Docker: ${r.stderr.trim() || `exit ${r.code}`}`, { host: host.name, step: 'docker' });
  }
  return parseDockerProbe(r.stdout);
}

/**
 * Makes Docker answer on the host: installs Debian's docker.io, configures and starts the engine,
 * and lets the SSH user use it, as needed. Refuses, naming the host and what to run, when the user
 * is neither root nor a passwordless sudoer.
 */
export async function provisionDocker(host: Host, opts: ProvisionOptions, events: Events): Promise<ProvisionOutcome> {
  const started = Date.now();
  const where = { host: host.name };
  const probe = await probeDocker(host);
  const plan = planDockerProvision(probe, opts);
  if (plan.kind === 'refused') {
    events.step('docker', 'fail', { ...where, message: plan.reason });
    throw operationError(`${plan.reason} on ${host.name}`, { host: host.name, step: 'docker', hint: plan.hint });
  }
  const stepMs: ProvisionOutcome['stepMs'] = {};
  const steps = plan.kind === 'steps' ? plan.steps : [];
  if (plan.kind === 'steps') {
    for (const step of plan.steps) {
      const t0 = Date.now();
      events.step(`docker ${step}`, 'start', { ...where, message: stepMessage(step, probe, opts) });
      const script = stepScript(step, { user: probe.user, insecureRegistries: opts.insecureRegistries, startWaitMs: opts.startWaitMs ?? 60_000 });
      const cmd = privilegedCommand(script, plan.privilege);
      const timeoutMs = step === 'install' ? (opts.installTimeoutMs ?? 600_000) : (opts.startWaitMs ?? 60_000) + 30_000;
      const r = await host.exec(cmd.command, { ...(cmd.stdin !== undefined ? { stdin: cmd.stdin } : {}), timeoutMs });
      for (const line of r.stdout.split('\n')) if (line.startsWith('WARN ')) events.log(line.slice(5), { ...where, level: 'warn', step: `docker ${step}` });
      if (r.code !== 0) {
        const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').filter(Boolean).slice(-15);
        events.step(`docker ${step}`, 'fail', { ...where, message: r.signal === 'timeout' ? `timed out after ${timeoutMs} ms` : `exit ${r.code}` });
        throw operationError(`docker ${step} failed on ${host.name}${r.signal === 'timeout' ? ` (timed out after ${timeoutMs} ms)` : ''}`, {
          host: host.name,
          step: `docker ${step}`,
          details: tail,
          hint: step === 'install' ? 'the host must reach its Debian mirror (apt-get update); see the lines above' : undefined,
        });
      }
      stepMs[step] = Date.now() - t0;
      events.step(`docker ${step}`, 'done', { ...where, durationMs: stepMs[step] });
      // Group membership is fixed when a session logs in: only a new connection carries it.
      if (step === 'grant') await reconnect(host);
    }
  }
  const dockerVersion = await dockerVersionOf(host);
  const durationMs = Date.now() - started;
  events.step('docker', steps.length ? 'done' : 'skip', { ...where, message: `Docker ${dockerVersion}${steps.length ? ` (${steps.join(', ')})` : ''}`, durationMs });
  return { host: host.name, steps, dockerVersion, durationMs, stepMs };
}

function stepMessage(step: ProvisionStep, probe: DockerProbe, opts: ProvisionOptions): string {
  switch (step) {
    case 'configure':
      return `insecure registries ${opts.insecureRegistries.join(', ')}`;
    case 'install':
      return `apt-get install docker.io${probe.privilege === 'sudo' ? ' (sudo)' : ''}`;
    case 'start':
      return probe.systemd ? 'systemctl start docker' : 'dockerd in the background';
    case 'grant':
      return `${probe.user} joins the docker group`;
    case 'state-dir':
      return `${probe.user} owns /var/lib/gangway`;
  }
}

async function reconnect(host: Host): Promise<void> {
  await host.close();
  await host.connect();
}

async function dockerVersionOf(host: Host): Promise<string> {
  try {
    const docker = await host.docker();
    return (await docker.version()).Version;
  } catch (err) {
    throw operationError(`Docker still does not answer on ${host.name} after provisioning: ${messageOf(err)}`, { host: host.name, step: 'docker', cause: err });
  }
}

/** Provisions every host at once; one error naming every host that failed. */
export async function provisionAll(hosts: Host[], opts: ProvisionOptions, events: Events): Promise<ProvisionOutcome[]> {
  const settled = await Promise.allSettled(hosts.map((h) => provisionDocker(h, opts, events)));
  const failures = settled.flatMap((r, i) => (r.status === 'rejected' ? [asGangwayError(r.reason, hosts[i]!.name)] : []));
  if (failures.length === 1) throw failures[0]!;
  if (failures.length > 1) {
    throw new GangwayError('operation', `Docker is not ready on ${failures.map((f) => f.host).join(', ')}`, {
      step: 'docker',
      details: failures.flatMap((f) => [`${f.host}: ${f.message}`, ...(f.hint ? [`  hint: ${f.hint}`] : []), ...f.details.map((d) => `  ${d}`)]),
      ...(failures[0]!.hint ? { hint: failures[0]!.hint } : {}),
    });
  }
  return settled.map((r) => (r as PromiseFulfilledResult<ProvisionOutcome>).value);
}

const asGangwayError = (err: unknown, host: string): GangwayError =>
  err instanceof GangwayError ? err : operationError(messageOf(err), { host, step: 'docker', cause: err });
