// The proxy's certificates on disk, as shell lines and text (pure): the certs/ directory beside
// haproxy.cfg, one `<name>.pem` per name (chain then key, as HAProxy loads them), and the
// crt-list the HTTPS bind loads, whose first line is the self-signed default. Contents travel on
// stdin, never in a command line.
import { shellQuote, type ShellCommand } from '../state/shell.js';
import { replaceFileCommand } from './config-file.js';
import { CERTS_DIR, containerCertPath, CRT_LIST_FILE, DEFAULT_CERT_NAME, PROXY_HOST_DIR, PROXY_SOCKET_GROUP } from './paths.js';

export const certsHostDir = (hostDir: string = PROXY_HOST_DIR): string => `${hostDir}/${CERTS_DIR}`;

/** The default certificate's line: no SNI filter, and first, so it answers every name no other line does. */
export const DEFAULT_CRT_LINE = containerCertPath(DEFAULT_CERT_NAME);
export const crtListLine = (name: string): string => `${containerCertPath(name)} ${name}`;

/** The crt-list for these names: the default first, then one line per name (sorted: same names, same bytes). */
export function renderCrtList(names: Iterable<string>): string {
  return [DEFAULT_CRT_LINE, ...[...new Set(names)].sort().map(crtListLine)].map((l) => `${l}\n`).join('');
}

/** The names a crt-list serves (lines with an SNI filter), in file order. */
export function parseCrtList(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length >= 2 && !parts[0]!.startsWith('#')) names.push(parts[parts.length - 1]!);
  }
  return names;
}

/**
 * Before the proxy loads a file with the HTTPS bind: certs/ (the docker group's, setgid 2770,
 * like the proxy's directory), the default certificate (from stdin, only when missing: it stays
 * the same across deploys) and a crt-list naming it (only when missing: it may list real names).
 * The default's key is throwaway and self-signed, readable by the docker group (0640) because the
 * SSH user writes it before any proxy runs; real keys are written by the proxy's own uid, 0600.
 */
export function ensureCertsCommand(defaultPem: string, hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const dir = certsHostDir(hostDir);
  const q = (name: string) => shellQuote(`${dir}/${name}`);
  const pem = q(`${DEFAULT_CERT_NAME}.pem`);
  const list = q(CRT_LIST_FILE);
  return {
    command: [
      `mkdir -p ${shellQuote(dir)}`,
      `{ chgrp ${PROXY_SOCKET_GROUP} ${shellQuote(dir)} 2>/dev/null; chmod 2770 ${shellQuote(dir)} 2>/dev/null; true; }`,
      `if [ -e ${pem} ]; then cat > /dev/null; else cat > ${q(`.${DEFAULT_CERT_NAME}.pem.tmp`)} && chmod 640 ${q(`.${DEFAULT_CERT_NAME}.pem.tmp`)} && mv -f ${q(`.${DEFAULT_CERT_NAME}.pem.tmp`)} ${pem}; fi`,
      `if [ ! -e ${list} ]; then printf '%s\\n' ${shellQuote(DEFAULT_CRT_LINE)} > ${q(`.${CRT_LIST_FILE}.tmp`)} && chmod 640 ${q(`.${CRT_LIST_FILE}.tmp`)} && mv -f ${q(`.${CRT_LIST_FILE}.tmp`)} ${list}; fi`,
    ].join(' && '),
    stdin: defaultPem,
  };
}

const CERT_FILES_PRESENT = 'gangway-proxy-cert-files present';

/** Prints a marker line when the default certificate and the crt-list are both in place (what ensureCertsCommand makes). */
export function certFilesPresentCommand(hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const dir = certsHostDir(hostDir);
  return { command: `if [ -e ${shellQuote(`${dir}/${DEFAULT_CERT_NAME}.pem`)} ] && [ -e ${shellQuote(`${dir}/${CRT_LIST_FILE}`)} ]; then echo '${CERT_FILES_PRESENT}'; fi` };
}

/** Pure: whether certFilesPresentCommand's output (among other lines) says both files are there. */
export const certFilesPresent = (stdout: string): boolean => stdout.split('\n').some((l) => l.trim() === CERT_FILES_PRESENT);

/** Replaces the crt-list (content on stdin), group-readable as the other files the proxy reads. */
export function writeCrtListCommand(text: string, hostDir: string = PROXY_HOST_DIR): ShellCommand {
  return replaceFileCommand(certsHostDir(hostDir), CRT_LIST_FILE, text);
}

/** Prints the crt-list, or nothing when there is none yet. */
export function readCrtListCommand(hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const list = shellQuote(`${certsHostDir(hostDir)}/${CRT_LIST_FILE}`);
  return { command: `if [ -e ${list} ]; then cat ${list}; fi` };
}
