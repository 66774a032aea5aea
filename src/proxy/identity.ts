// Who HAProxy runs as on a host, as data: a fixed uid that no host account may share, and the
// host's docker group as its group, read on the host (the bind-mounted directory is that group's,
// and so is the admin socket HAProxy creates in it). The executor is readProxyIdentity in
// operations.ts; the why is in README.md ("Unprivileged").
import { probeLine, probeValues, type ShellCommand } from '../state/shell.js';
import { PROXY_SOCKET_GROUP } from './paths.js';

const PREFIX = 'gangway-proxy-identity ';

export interface ProxyIdentity {
  uid: number;
  /** The host's docker group. */
  gid: number;
}

/**
 * Runs as the SSH user, without sudo, and changes nothing: the docker group's gid, and whoever
 * already has the uid: an account (through NSS, then /etc/passwd), or a subordinate uid range of
 * /etc/subuid (what rootless containers run as on the host).
 */
export function proxyIdentityCommand(uid: number, group: string = PROXY_SOCKET_GROUP): ShellCommand {
  assertProxyUid(uid);
  return {
    command: [
      probeLine(PREFIX, 'gid', `$({ getent group ${group} || grep '^${group}:' /etc/group; } 2>/dev/null | head -n 1 | cut -d: -f3)`),
      probeLine(PREFIX, 'account', `$({ getent passwd ${uid} || awk -F: '$3 == ${uid}' /etc/passwd; } 2>/dev/null | head -n 1 | cut -d: -f1)`),
      probeLine(PREFIX, 'subuid', `$(awk -F: '$2 <= ${uid} && ${uid} < $2 + $3 { print $1; exit }' /etc/subuid 2>/dev/null)`),
    ].join('\n'),
  };
}

export type ProxyIdentityAnswer = { ok: true; identity: ProxyIdentity } | { ok: false; reason: string; hint: string };

/** Reads the command's output: the identity, or why the proxy may not run as that uid there. */
export function parseProxyIdentity(stdout: string, uid: number, group: string = PROXY_SOCKET_GROUP): ProxyIdentityAnswer {
  const values = probeValues(stdout, PREFIX);
  const pickAnother = 'set proxy.uid to a uid that no account (getent passwd <uid>) and no range of /etc/subuid has';
  const account = values.get('account');
  if (account) return { ok: false, reason: `uid ${uid}, which the proxy runs as, is the account ${account}'s`, hint: pickAnother };
  const subuid = values.get('subuid');
  if (subuid) return { ok: false, reason: `uid ${uid}, which the proxy runs as, is in ${subuid}'s subordinate uids (/etc/subuid)`, hint: pickAnother };
  const gid = values.get('gid') ?? '';
  if (!/^\d+$/.test(gid)) {
    return {
      ok: false,
      reason: `there is no ${group} group, which the proxy runs with and its admin socket belongs to`,
      hint: `create it (groupadd --system ${group}: Debian's docker.io does) and add the SSH user to it, or run gangway setup`,
    };
  }
  return { ok: true, identity: { uid, gid: Number(gid) } };
}

/** A uid the proxy may run as: not root, and one the kernel takes (below 2^31). */
export function assertProxyUid(uid: number): void {
  if (!Number.isInteger(uid) || uid < 1 || uid >= 2 ** 31) throw new Error(`proxy uid ${uid} must be an integer from 1 to ${2 ** 31 - 1}`);
}
