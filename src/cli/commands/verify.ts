// `gangway verify`: checks of the hosts' real state (declared in `verify:` or --file) plus the
// built-in invariants, on every host in parallel; reported for humans, --json, --junit, --tap.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { emitResults, humanReport, loadVerifyFile, machineReports, summarize, summaryLine, verifyHosts, verifySpecFromConfig } from '../../verify/index.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';

interface VerifyFlags {
  file?: string;
  /** true: to stdout; a string: to that file. */
  junit?: string | boolean;
  tap?: boolean;
}

export async function run(globals: GlobalOptions, _args: unknown[], cmdOpts: Record<string, unknown>): Promise<number> {
  const flags = cmdOpts as VerifyFlags;
  return runCommand('verify', globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const { spec } = flags.file !== undefined ? await loadVerifyFile(flags.file, ctx.cwd, s.loaded) : await verifySpecFromConfig(s.loaded, ctx.cwd);
      const junitToStdout = flags.junit === true;
      // A report on stdout must be the only thing there: no progress lines around it.
      const machineStdout = junitToStdout || flags.tap === true;
      await s.pool.ready(); // pre-connect: its failure is the command's, not one per host
      const report = await verifyHosts({ loaded: s.loaded, spec, host: (name) => s.pool.get(name), ...(machineStdout ? {} : { events: s.events }) });
      // A machine format on stdout replaces the human report there; --json keeps its events.
      const reports = machineReports(report, flags, s.events);
      if (reports.file) await writeFile(resolve(ctx.cwd, reports.file.path), reports.file.text);
      if (reports.stdout !== undefined) process.stdout.write(reports.stdout);
      if (ctx.opts.json) emitResults(s.events, report);
      else if (!junitToStdout && !flags.tap) for (const line of humanReport(report)) s.events.log(line.message, { level: line.level, ...(line.host ? { host: line.host } : {}), ...(line.role ? { role: line.role } : {}) });
      const summary = summarize(report);
      const ok = summary.passed === summary.checks;
      const exitCode = ok ? 0 : 1;
      if (ctx.opts.json) s.events.emit({ type: 'done', ok, command: 'verify', message: summaryLine(report), exitCode });
      return exitCode;
    } finally {
      await s.close();
    }
  });
}
