// `gangway exec CMD...`: run a command in a new container of the live version (same image, env
// and network as the app), or with --reuse inside the running container.
import { PassThrough } from 'node:stream';
import { findContainers, removeContainer } from '../../app/container.js';
import { usageError, operationError } from '../../errors.js';
import { APP_NETWORK } from '../../fleet/prepare.js';
import { primaryRoleOf } from '../../fleet/session.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';
import { reachableHosts } from '../../fleet/connect.js';
import { createContainer } from '../../docker/containers.js';
import { deploymentLabels, LABEL } from '../../state/labels.js';

interface ExecFlags {
  reuse?: boolean;
  role?: string;
  host?: string;
}

export async function run(globals: GlobalOptions, args: unknown[], flags: ExecFlags): Promise<number> {
  const cmd = args[0] as string[];
  return runCommand('exec', globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const role = flags.role ? s.loaded.roles.find((r) => r.name === flags.role) : primaryRoleOf(s);
      if (!role) throw usageError(`no role ${flags.role}`);
      const names = role.hosts.filter((h) => !flags.host || h === flags.host);
      if (names.length === 0) throw usageError(`host ${flags.host} is not in role ${role.name}`);
      const { hosts, unreachable } = await reachableHosts(s, names);
      let worst = unreachable > 0 ? 1 : 0;
      for (const host of hosts) {
        const live = (await findContainers(host, s.deployment, role.name)).filter((c) => c.running).sort((a, b) => b.deployedAt.getTime() - a.deployedAt.getTime())[0];
        if (!live) throw operationError(`no running ${role.name} container on ${host.name}`, { host: host.name, role: role.name, step: 'exec' });
        const docker = await host.docker();
        const out = new PassThrough();
        out.setEncoding('utf8');
        let buffered = '';
        out.on('data', (chunk: string) => {
          buffered += chunk;
          const parts = buffered.split('\n');
          buffered = parts.pop()!;
          for (const p of parts) s.events.log(p, { host: host.name, role: role.name });
        });
        let code: number;
        if (flags.reuse) {
          const exec = await docker.getContainer(live.name).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
          const stream = await exec.start({ hijack: true, stdin: false });
          docker.modem.demuxStream(stream, out, out);
          await new Promise((r) => stream.on('end', r));
          code = (await exec.inspect()).ExitCode ?? 1;
        } else {
          const info = await docker.getContainer(live.name).inspect();
          const name = `${live.name}-exec-${Date.now().toString(36)}`;
          const c = await createContainer(docker, {
            name,
            Image: info.Image,
            Cmd: cmd,
            Env: info.Config.Env,
            Labels: { ...deploymentLabels(s.deployment), [LABEL.managed]: 'exec' },
            HostConfig: { NetworkMode: APP_NETWORK, ...(info.HostConfig.Binds ? { Binds: info.HostConfig.Binds } : {}) },
          });
          try {
            const stream = await c.attach({ stream: true, stdout: true, stderr: true });
            docker.modem.demuxStream(stream, out, out);
            await c.start();
            code = ((await c.wait()) as { StatusCode: number }).StatusCode;
            await new Promise((r) => setTimeout(r, 50));
          } finally {
            await removeContainer(host, name);
          }
        }
        if (buffered) s.events.log(buffered, { host: host.name, role: role.name });
        if (code !== 0) s.events.log(`exit ${code}`, { level: 'error', host: host.name, role: role.name });
        worst = Math.max(worst, code === 0 ? 0 : 1);
      }
      return worst;
    } finally {
      await s.close();
    }
  });
}
