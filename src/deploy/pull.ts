// The image on every host before anything changes: one host that cannot get it stops the deploy
// with nothing changed.
import { GangwayError, messageOf, operationError } from '../errors.js';
import { ensureImage, registryAuth } from './image.js';
import type { DeployRun } from './context.js';

/**
 * `alwaysPull`: pull even when the image is on the host (see DeployOptions). `onPulled`: told of
 * each host that has the image, as soon as it has it.
 */
export async function pullEverywhere(run: DeployRun, opts: { alwaysPull?: boolean; onPulled?: (host: string) => void }): Promise<void> {
  const { s, hosts, ref } = run;
  const cfg = s.loaded.config;
  const auth = registryAuth(cfg);
  // A version tag names one image (release refuses to re-push it with another digest), so an
  // image already on the host is that version: no registry round trip.
  const alwaysPull = opts.alwaysPull ?? false;
  const errors: GangwayError[] = [];
  await Promise.all(
    [...hosts.values()].map(async (host) => {
      const t0 = Date.now();
      s.events.step('pull', 'start', { host: host.name, message: ref });
      try {
        const r = await ensureImage(host, ref, { alwaysPull, ...(auth ? { auth } : {}), timeoutMs: cfg.pull_timeout });
        run.imageIds.set(host.name, r.id);
        opts.onPulled?.(host.name);
        s.events.step('pull', 'done', { host: host.name, message: r.pulled ? ref : `${ref} (present)`, durationMs: Date.now() - t0 });
      } catch (err) {
        s.events.step('pull', 'fail', { host: host.name, message: messageOf(err) });
        errors.push(err instanceof GangwayError ? err : operationError(messageOf(err), { host: host.name, step: 'pull' }));
      }
    }),
  );
  if (errors.length > 0) {
    const order = [...hosts.keys()];
    errors.sort((a, b) => order.indexOf(a.host ?? '') - order.indexOf(b.host ?? ''));
    throw new GangwayError('operation', `${ref} is not available on ${errors.map((e) => e.host).join(', ')}; nothing was changed`, {
      step: 'pull',
      details: errors.map((e) => e.message),
      ...(errors[0]!.hint ? { hint: errors[0]!.hint } : {}),
    });
  }
}
