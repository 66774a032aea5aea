// `gangway config`: load, validate and print the resolved config with secrets redacted.
import { stringify } from 'yaml';
import { connectionComments, connectionView } from '../../config/connection-view.js';
import { redactConfig } from '../../config/redact.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { loadForCommand } from '../load.js';

export async function run(globals: GlobalOptions, _args: unknown[], _cmdOpts: Record<string, unknown>): Promise<number> {
  return runCommand('config', globals, async (ctx) => {
    const loaded = await loadForCommand(ctx);
    const config = redactConfig(loaded);
    const connections = loaded.connections.map((c) => connectionView(c, loaded.config.ssh.keepalive_interval));
    const unsupported = loaded.connectionContext.sshConfig?.unsupported ?? [];
    const sshConfigNotes = unsupported.map((u) => `${loaded.connectionContext.sshConfig!.file}:${u.line}: ${u.directive} is not followed by gangway; what it sets does not apply`);
    if (ctx.opts.json) {
      ctx.events.result('config', {
        config,
        files: loaded.files,
        roles: loaded.roles,
        hostTargets: loaded.hostTargets,
        connections,
        sshConfigNotes,
      });
      ctx.events.emit({ type: 'done', ok: true, command: 'config', message: 'config is valid', exitCode: 0 });
    } else {
      // The YAML alone on stdout, so `gangway config > resolved.yml` stays usable.
      ctx.events.log([stringify(config).trimEnd(), ...connectionComments(connections), ...sshConfigNotes.map((n) => `# ${n}`)].join('\n'));
    }
    return 0;
  });
}
