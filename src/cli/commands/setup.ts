// `gangway setup`: prepare every host (Docker answers, app network, proxy), then deploy. The
// preparation is the same idempotent step every deploy runs first.
import { runCommand, type GlobalOptions } from '../context.js';
import { deployCommand, type DeployFlags } from './deploy-common.js';

export async function run(globals: GlobalOptions, _args: unknown[], flags: DeployFlags): Promise<number> {
  return runCommand('setup', globals, (ctx) => deployCommand(ctx, 'setup', flags));
}
