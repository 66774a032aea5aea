// Busy hosts on purpose: CPU and process-start pressure inside sandbox hosts, from a container of
// the host's own engine, bounded in time twice (the script ends itself; stopBurners removes it).
import type { SandboxInfo } from '../../../src/sandbox/types.js';
import { onHost } from './deploy.js';

const BURNER_LABEL = 'gangway-test.burner';
const BURNER_NAME = 'gangway-test-burner';

/**
 * One loop per host that alternates a burst of shell arithmetic (CPU) with starting a process (a
 * fork + exec) and a 50 ms pause, until `seconds` have passed. Busybox sh only. Calibrated on this
 * 2-core machine, where three hosts share two cores with the load generator: heavier burners (one
 * to three loops per host without the pause) measured load averages of 60 to 90, where the app
 * could not serve even the load with no command running (POSTs past a 10 s timeout, the open loop
 * held back): a test of the machine's capacity, not of a deploy. This one leaves the app serving
 * at rest with latencies of seconds, past the proxy's check timeouts: the condition under test.
 */
export function burnerScript(seconds: number): string {
  return [
    `end=$(( $(date +%s) + ${Math.round(seconds)} ))`,
    'while [ "$(date +%s)" -lt "$end" ]; do i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done; /bin/true; usleep 50000; done',
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
