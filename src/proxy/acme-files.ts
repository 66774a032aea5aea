// The ACME container's inputs and outputs in the proxy's directory, as shell lines and text
// (pure). Each service on a shared proxy keeps its own list of ACME names (certs/acme-owners/
// <owner>.txt) so a deploy or a removal changes only its own; the container reads the union,
// certs/acme-names.txt. It answers in certs/<name>.status.json (see acme-container.ts).
import { shellQuote, type ShellCommand } from '../state/shell.js';
import { acmeNamesText, type AcmeStatus } from './acme-container.js';
import { certsHostDir } from './cert-files.js';
import { replaceFileCommand } from './config-file.js';
import { PROXY_HOST_DIR } from './paths.js';

export const ACME_OWNERS_DIR = 'acme-owners';
export const ACME_NAMES_FILE = 'acme-names.txt';
/** The private CA's root for lego (LEGO_CA_CERTIFICATES), beside haproxy.cfg: not a secret. */
export const ACME_CA_FILE = 'acme-ca.pem';

export function writeOwnerNamesCommand(owner: string, names: string[], hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const dir = `${certsHostDir(hostDir)}/${ACME_OWNERS_DIR}`;
  const write = replaceFileCommand(dir, `${owner}.txt`, acmeNamesText(names));
  return { ...write, command: `mkdir -p ${shellQuote(dir)} && ${write.command}` };
}

export function removeOwnerNamesCommand(owner: string, hostDir: string = PROXY_HOST_DIR): ShellCommand {
  return { command: `rm -f ${shellQuote(`${certsHostDir(hostDir)}/${ACME_OWNERS_DIR}/${owner}.txt`)}` };
}

/** Every owner's names, then a separator line, then the container's current list. */
export const ACME_LISTS_SEPARATOR = '--- acme-names.txt';
export function readAcmeListsCommand(hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const certs = certsHostDir(hostDir);
  const names = shellQuote(`${certs}/${ACME_NAMES_FILE}`);
  return { command: `cat ${shellQuote(`${certs}/${ACME_OWNERS_DIR}`)}/*.txt 2>/dev/null; echo ${shellQuote(ACME_LISTS_SEPARATOR)}; if [ -e ${names} ]; then cat ${names}; fi` };
}

const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));

/** What the container should read (the owners' union, sorted) and what it reads now. */
export function parseAcmeLists(text: string): { wanted: string[]; current: string[] } {
  const at = text.indexOf(`${ACME_LISTS_SEPARATOR}\n`);
  const owners = at < 0 ? text : text.slice(0, at);
  const current = at < 0 ? '' : text.slice(at + ACME_LISTS_SEPARATOR.length + 1);
  return { wanted: [...new Set(lines(owners))].sort(), current: lines(current) };
}

export const writeAcmeNamesCommand = (names: string[], hostDir: string = PROXY_HOST_DIR): ShellCommand =>
  replaceFileCommand(certsHostDir(hostDir), ACME_NAMES_FILE, acmeNamesText(names));

export const writeAcmeCaCommand = (pem: string, hostDir: string = PROXY_HOST_DIR): ShellCommand => replaceFileCommand(hostDir, ACME_CA_FILE, pem, '644');

/** The status files of these names, one JSON line each (a missing file prints nothing). */
export function readStatusesCommand(names: string[], hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const certs = certsHostDir(hostDir);
  const files = names.map((n) => shellQuote(`${certs}/${n}.status.json`)).join(' ');
  return { command: `for f in ${files}; do if [ -e "$f" ]; then cat "$f"; echo; fi; done` };
}

/** Status lines by name; a line that is not a status (half written, foreign) is skipped. */
export function parseStatuses(text: string): Map<string, AcmeStatus> {
  const out = new Map<string, AcmeStatus>();
  for (const line of lines(text)) {
    try {
      const s = JSON.parse(line) as Partial<AcmeStatus>;
      if (typeof s.name === 'string' && (s.result === 'ok' || s.result === 'failed') && typeof s.lastAttempt === 'string') out.set(s.name, s as AcmeStatus);
    } catch {
      // not one of ours
    }
  }
  return out;
}

/**
 * Where a name stands after gangway asked for it: `issued` once a status newer than `before`
 * says ok with a certificate, `failed` once a newer one says failed, else `waiting`.
 */
export function issuanceOf(before: AcmeStatus | undefined, now: AcmeStatus | undefined): 'issued' | 'failed' | 'waiting' {
  if (!now) return 'waiting';
  const newer = !before || now.lastAttempt !== before.lastAttempt || now.result !== before.result;
  if (!newer) return 'waiting';
  if (now.result === 'failed') return 'failed';
  return now.notAfter ? 'issued' : 'waiting';
}

/** A name that needs a first certificate: no status yet, or none that ever had one. */
export const needsIssuance = (status: AcmeStatus | undefined): boolean => !status?.notAfter;
