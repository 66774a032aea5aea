// `gangway rollback [VERSION]`: deploy a retained version again, gated exactly like a deploy.
import { operationError } from '../../errors.js';
import { connectAll } from '../../fleet/connect.js';
import { primaryHostOf, primaryRoleOf } from '../../fleet/session.js';
import { observeForStatus, previousVersion } from '../../deploy/status.js';
import { assertValidVersion } from '../../release/version.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { deployCommand, type DeployFlags } from './deploy-common.js';

export async function run(globals: GlobalOptions, args: unknown[], flags: DeployFlags): Promise<number> {
  const wanted = args[0] as string | undefined;
  return runCommand('rollback', globals, (ctx) =>
    deployCommand(ctx, 'rollback', flags, async (s) => {
      if (wanted !== undefined) return assertValidVersion(wanted, 'rollback VERSION');
      const primary = primaryHostOf(s);
      // The deploy that follows needs every host: their connections open while the primary is
      // asked for the previous version (a failure is kept and reported by the deploy's connect).
      for (const name of s.pool.names()) void s.pool.get(name).catch(() => {});
      const hosts = await connectAll(s, [primary]);
      const previous = previousVersion(await observeForStatus(s, hosts.get(primary)!), primaryRoleOf(s));
      if (!previous) throw operationError(`no retained version to roll back to on ${primary}`, { host: primary, step: 'rollback', hint: 'name the version: gangway rollback VERSION' });
      return previous;
    }),
  );
}
