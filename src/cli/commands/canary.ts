// `gangway canary status|promote|abort`: a person takes over a canary deploy (docs/canary.md).
import { canaryStatus, finishCanary, type SideStatus } from '../../deploy/canary-takeover.js';
import type { VersionFigures } from '../../deploy/canary-analysis.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';

function describeSide(x: SideStatus): string {
  const slow = (f: VersionFigures) => (x.p99Ms === undefined ? '' : `, ${f.slow} slower than ${x.p99Ms} ms`);
  const figures = (f: VersionFigures): string => `${f.requests} requests, ${(f.errorRate * 100).toFixed(2)}% errors, ${f.responseTimeMs} ms average${slow(f)}`;
  return `${x.version} takes ${(x.share * 100).toFixed(1)}% of new requests: ${x.canary} ${figures(x.canaryFigures)}; ${x.baseline.join(', ')} ${figures(x.baselineFigures)}`;
}

export async function status(globals: GlobalOptions): Promise<number> {
  return runCommand('canary status', globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const sides = await canaryStatus(s);
      if (sides.length === 0) s.events.log('no canary in progress');
      for (const x of sides) {
        s.events.result('canary', { ...x }, { host: x.host });
        s.events.log(describeSide(x), { host: x.host });
      }
      return 0;
    } finally {
      await s.close();
    }
  });
}

async function finish(globals: GlobalOptions, action: 'abort' | 'promote'): Promise<number> {
  return runCommand(`canary ${action}`, globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const done = await finishCanary(s, action);
      s.events.log(done.version === undefined
        ? 'no canary in progress: nothing to do'
        : action === 'abort'
          ? `canary of ${done.version} aborted: the old version serves everything on ${done.hosts.join(', ')}`
          : `canary of ${done.version} promoted: it serves everything on ${done.hosts.join(', ')}`);
      return 0;
    } finally {
      await s.close();
    }
  });
}

export const abort = (globals: GlobalOptions): Promise<number> => finish(globals, 'abort');
export const promote = (globals: GlobalOptions): Promise<number> => finish(globals, 'promote');
