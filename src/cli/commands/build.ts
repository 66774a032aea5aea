// `gangway build`: build the image from the config's build section on the local engine, label
// it with its version and commit, tag it <image>:<version>, and with --push push that tag.
// pre-build runs before the build, post-build after it and before the push: both gate what is
// built and published (docs/hooks.md).
import { performer, runHook, warnUnknownHooks, type HookContext } from '../../hooks/hooks.js';
import { LocalHost } from '../../hosts/local-host.js';
import { configError, operationError } from '../../errors.js';
import { buildImage, buildRequest } from '../../release/build.js';
import { executeOperations } from '../../release/engine.js';
import { describeOutcome } from '../../release/operations.js';
import { loadReleaseSettings } from '../../release/release-config.js';
import { engineAuthFor } from '../../release/release.js';
import { resolveVersion } from '../../release/version.js';
import { parseImageRef, registryOf } from '../../registry/reference.js';
import { runCommand, type GlobalOptions } from '../context.js';

interface BuildFlags {
  version?: string;
  push?: boolean;
}

export async function run(globals: GlobalOptions, _args: unknown[], cmdOpts: Record<string, unknown>): Promise<number> {
  const flags = cmdOpts as BuildFlags;
  return runCommand('build', globals, async ({ events, cwd, env, opts }) => {
    const settings = await loadReleaseSettings({ file: opts.config, ...(opts.destination ? { destination: opts.destination } : {}), cwd, env, required: true, redactor: events });
    events.addSecret(settings.registry?.password);
    if (!settings.image) throw configError('image: is missing from the config');
    const image = parseImageRef(settings.image);
    if (image.tag || image.digest) throw configError(`image: ${settings.image} must not carry a tag or digest; the version becomes the tag`);
    const resolved = await resolveVersion({ ...(flags.version !== undefined ? { flag: flags.version } : {}), env, cwd: settings.baseDir });
    const request = buildRequest({ build: settings.build, image: settings.image, version: resolved.version, ...(resolved.commit ? { revision: resolved.commit } : {}) });
    // A build contacts no host: GANGWAY_HOSTS and GANGWAY_ROLES are empty, GANGWAY_IMAGE names the tag.
    const hookCtx: HookContext = { service: settings.service ?? '', version: resolved.version, hosts: [], roles: [], performer: performer(), command: 'build', ...(opts.destination ? { destination: opts.destination } : {}), extra: { GANGWAY_IMAGE: request.tag } };
    const hookOpts = { projectDir: settings.baseDir, events };
    await warnUnknownHooks(settings.baseDir, events);
    await runHook('pre-build', hookCtx, hookOpts);
    const docker = await new LocalHost().docker();
    const started = Date.now();
    events.step('build', 'start', { message: request.tag });
    const built = await buildImage(docker, request, events);
    events.step('build', 'done', { message: `${built.tag}${built.imageId ? ` ${built.imageId}` : ''}`, durationMs: Date.now() - started });
    events.result('build', { tag: built.tag, imageId: built.imageId, version: resolved.version, revision: resolved.commit, dirty: resolved.dirty ?? false });
    // Before the push: a post-build that fails (a scan, a signature) keeps the image unpublished.
    await runHook('post-build', hookCtx, hookOpts);
    if (flags.push) {
      const outcome = await executeOperations(docker, [{ kind: 'push', ref: built.tag, registry: registryOf(image) }], {
        events,
        authFor: (registry) => engineAuthFor(registry, settings.registry),
      });
      if (outcome.failed) throw operationError(`pushing ${built.tag} failed`, { step: 'push', details: describeOutcome(outcome) });
    }
    events.emit({ type: 'done', ok: true, command: 'build', message: `built ${built.tag}${flags.push ? ' and pushed it' : ''}`, exitCode: 0 });
    return 0;
  });
}
