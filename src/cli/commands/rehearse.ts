// `gangway rehearse [--version V] [--from CURRENT] [--keep]`: see src/rehearse/run.ts.
import { assertValidVersion, resolveVersion } from '../../release/version.js';
import { rehearse, type SideOutcome } from '../../rehearse/run.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';

interface RehearseFlags {
  version?: string;
  from?: string;
  keep?: boolean;
}

const SIDE_TITLE: Record<string, string> = { fresh: 'fresh hosts (setup + deploy)', upgrade: 'upgrade' };

export async function run(globals: GlobalOptions, _args: unknown[], flags: RehearseFlags): Promise<number> {
  return runCommand('rehearse', globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const version = (await resolveVersion({ flag: flags.version, env: ctx.env, cwd: s.loaded.baseDir })).version;
      const from = flags.from === undefined ? undefined : assertValidVersion(flags.from, '--from');
      const outcome = await rehearse(s, { version, ...(from ? { from } : {}), ...(flags.keep ? { keep: true } : {}) }, ctx.env);
      const report = (side: SideOutcome) => {
        const title = `${SIDE_TITLE[side.name]}${side.name === 'upgrade' ? ` from ${outcome.from}` : ''}`;
        if (side.failure) {
          s.events.log(`${title}: FAILED: ${side.failure.message}`, { level: 'error', step: side.name });
          for (const d of side.failure.details) s.events.log(`  ${d}`, { level: 'error', step: side.name });
        } else {
          s.events.log(`${title}: deployed ${outcome.version}`, { step: side.name });
        }
        for (const v of side.verifyFailures) s.events.log(`${side.name}: verify failed ${v}`, { level: 'error', step: side.name });
        s.events.result('rehearse-side', { side: side.name, failed: side.failure?.message ?? null, verifyFailures: side.verifyFailures });
      };
      report(outcome.fresh);
      report(outcome.upgrade);
      for (const d of outcome.differences) {
        s.events.log(d.message, { level: 'error', host: d.host, step: 'diff' });
        s.events.result('rehearse-difference', { ...d }, { host: d.host });
      }
      const bothDeployed = !outcome.fresh.failure && !outcome.upgrade.failure;
      const message = outcome.ok
        ? `same state: ${outcome.version} rehearsed fresh and as an upgrade from ${outcome.from}`
        : !bothDeployed
          ? `rehearsal of ${outcome.version} failed on ${[outcome.fresh, outcome.upgrade].filter((x) => x.failure).map((x) => SIDE_TITLE[x.name]).join(' and ')}`
          : outcome.differences.length > 0
            ? `fresh and upgraded hosts differ in ${outcome.differences.length} way(s)`
            : 'verify failed after the rehearsal';
      s.events.emit({ type: 'done', ok: outcome.ok, command: 'rehearse', message, exitCode: outcome.ok ? 0 : 1 });
      return outcome.ok ? 0 : 1;
    } finally {
      await s.close();
    }
  });
}
