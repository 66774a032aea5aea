// Busy hosts on purpose: CPU and process-start pressure inside sandbox hosts, from a container of
// the host's own engine, bounded in time twice (the script ends itself; stopBurners removes it).
import type { SandboxInfo } from '../../../src/sandbox/types.js';
import { onHost } from './deploy.js';

const BURNER_LABEL = 'gangway-test.burner';
const BURNER_NAME = 'gangway-test-burner';

/**
 * One CPU loop and one loop that starts processes as fast as it can (each `/bin/true` and `date` is
 * a fork + exec), until `seconds` have passed. Busybox sh only. On this 2-core machine three
 * hosts' burners make six runnable processes beside the sandbox's own: each host's deploy work
 * and app get a fraction of a core, which is the condition under test. (Two CPU loops per host
 * measured a load average over 80, where even the load generator and HAProxy starve and the same
 * load with no deploy lost most requests: a test of the machine, not of gangway.)
 */
export function burnerScript(seconds: number): string {
  return [
    `end=$(( $(date +%s) + ${Math.round(seconds)} ))`,
    'cpu() { while [ "$(date +%s)" -lt "$end" ]; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; done; }',
    'spawn() { while [ "$(date +%s)" -lt "$end" ]; do /bin/true; /bin/true; /bin/true; done; }',
    'cpu & spawn & wait',
  ].join('\n');
}

/** Starts a burner on each host from `image` (any image with a busybox or POSIX sh). */
export async function startBurners(info: SandboxInfo, hosts: readonly string[], image: string, seconds: number): Promise<void> {
  const script = burnerScript(seconds).replace(/'/g, `'\\''`);
  await Promise.all(hosts.map(async (host) => {
    const out = await onHost(info, host, `docker rm -f ${BURNER_NAME} >/dev/null 2>&1; docker run -d --rm --name ${BURNER_NAME} --label ${BURNER_LABEL}=1 --network none --entrypoint sh ${image} -c '${script}' 2>&1`);
    if (!/^[0-9a-f]{64}\s*$/.test(out)) throw new Error(`the burner did not start on ${host}: ${out.trim()}`);
  }));
}

export async function stopBurners(info: SandboxInfo, hosts: readonly string[]): Promise<void> {
  await Promise.all(hosts.map((host) => onHost(info, host, `ids=$(docker ps -aq --filter label=${BURNER_LABEL}); [ -n "$ids" ] && docker rm -f $ids >/dev/null; true`)));
}

/** Runs `during` with every host busy; the burners end when it does (or after maxSeconds). */
export async function whileBusy<T>(info: SandboxInfo, hosts: readonly string[], image: string, maxSeconds: number, during: () => Promise<T>): Promise<T> {
  await startBurners(info, hosts, image, maxSeconds);
  try {
    return await during();
  } finally {
    await stopBurners(info, hosts);
  }
}
