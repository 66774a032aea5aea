// `gangway release`: tag <image>:<version> with its aliases on every registry and push them,
// never moving a floating tag backwards (see docs/release.md).
import { LocalHost } from '../../hosts/local-host.js';
import { usageError } from '../../errors.js';
import { loadReleaseSettings } from '../../release/release-config.js';
import { runRelease } from '../../release/release.js';
import { resolveVersion } from '../../release/version.js';
import { runCommand, type GlobalOptions } from '../context.js';

interface ReleaseFlags {
  version?: string;
  semver?: boolean;
  latest?: boolean;
  precision?: string;
  zero?: boolean;
  tag?: string;
  registry?: string[];
  image?: string[];
  prereleaseMovesAliases?: boolean;
  force?: boolean;
  dryRun?: boolean;
}

export function parsePrecision(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw usageError(`--precision must be a whole number >= 1, got "${text}"`);
  return Number(text);
}

/** Comma-separated extra plain-HTTP registries, for registries other than loopback and registry:5000. */
export function insecureRegistriesFrom(env: NodeJS.ProcessEnv): string[] {
  return (env.GANGWAY_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export async function run(globals: GlobalOptions, _args: unknown[], cmdOpts: Record<string, unknown>): Promise<number> {
  const flags = cmdOpts as ReleaseFlags;
  return runCommand('release', globals, async ({ events, cwd, env, opts }) => {
    const precision = parsePrecision(flags.precision);
    const settings = await loadReleaseSettings({ file: opts.config, ...(opts.destination ? { destination: opts.destination } : {}), cwd, env, required: !flags.image?.length, redactor: events });
    events.addSecret(settings.registry?.password);
    const images = flags.image?.length ? flags.image : settings.image ? [settings.image] : [];
    const { version, source } = await resolveVersion({ ...(flags.version !== undefined ? { flag: flags.version } : {}), env, cwd: settings.baseDir });
    if (source === 'git') events.log(`version ${version} (from the git commit)`);
    const docker = await new LocalHost().docker();
    const report = await runRelease(
      {
        version,
        images,
        ...(flags.registry?.length ? { registries: flags.registry } : {}),
        semver: flags.semver ?? false,
        latest: flags.latest ?? false,
        ...(precision !== undefined ? { precision } : {}),
        zero: flags.zero ?? false,
        ...(flags.tag !== undefined ? { suffix: flags.tag } : {}),
        prereleaseMovesAliases: flags.prereleaseMovesAliases ?? false,
        force: flags.force ?? false,
        dryRun: flags.dryRun ?? false,
        ...(settings.registry ? { login: settings.registry } : {}),
        insecureRegistries: insecureRegistriesFrom(env),
      },
      { docker, events },
    );
    const held = report.plan.decisions.filter((d) => d.action === 'hold').map((d) => `${d.target.tag} (stays at ${d.newestExisting})`);
    const skipped = report.plan.decisions.filter((d) => d.action === 'skip').length;
    const pushes = report.operations.filter((o) => o.kind === 'push').length;
    const parts = [
      flags.dryRun ? `dry run: ${pushes} tag(s) would be pushed` : `${pushes} tag(s) pushed`,
      ...(skipped ? [`${skipped} already there`] : []),
      ...(held.length ? [`not moved: ${held.join(', ')}`] : []),
    ];
    events.emit({ type: 'done', ok: true, command: 'release', message: `release ${version}: ${parts.join('; ')}`, exitCode: 0 });
    return 0;
  });
}
