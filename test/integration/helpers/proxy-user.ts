// Who a host's proxy runs as, read on that host from outside gangway: `docker top` of the proxy
// container (every HAProxy process's uid and gid, numeric), `stat` of its admin socket, and the
// host's docker group as /etc/group says. One shell line, for `onHost` (a sandbox host) or a
// LocalHost's exec (the local engine).
import { expect } from 'vitest';

export interface ProxyUserSeen {
  /** "uid:gid" of every process in the proxy container. */
  processes: string[];
  /** "uid:group mode" of the admin socket. */
  socket: string;
  dockerGid: string;
}

const SEP = '--gangway-proxy-user--';

export const proxyUserCommand = (container: string, socket: string): string =>
  [
    `docker top ${container} -o pid,uid,gid,args | tail -n +2 | awk '{ print $2 ":" $3 }'`,
    `echo ${SEP}`,
    `stat -c '%u:%G %a' ${socket}`,
    `echo ${SEP}`,
    "getent group docker | cut -d: -f3",
  ].join('; ');

export function parseProxyUser(out: string): ProxyUserSeen {
  const [processes = '', socket = '', gid = ''] = out.split(SEP);
  return { processes: processes.split('\n').map((l) => l.trim()).filter(Boolean), socket: socket.trim(), dockerGid: gid.trim() };
}

/**
 * HAProxy runs unprivileged: master and worker (at least two processes) as uid 80080 with the
 * host's docker group, and the socket is that uid's and the docker group's, mode 660
 * (src/proxy/README.md, "Unprivileged").
 */
export function expectUnprivilegedProxy(shellOutput: string): void {
  const seen = parseProxyUser(shellOutput);
  expect(seen.dockerGid).toMatch(/^\d+$/);
  expect(seen.processes.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);
  expect(new Set(seen.processes)).toEqual(new Set([`80080:${seen.dockerGid}`]));
  expect(seen.socket).toBe('80080:docker 660');
}
