// Shell lines that read and atomically replace haproxy.cfg on a host. The content travels on
// stdin; a reader never sees a half-written file because the final step is a rename.
import { shellQuote, type ShellCommand } from '../state/shell.js';
import { CONFIG_FILE, hostSocketPath, PROXY_HOST_DIR, PROXY_SOCKET_GROUP } from './paths.js';

/**
 * The directory belongs to the docker group, setgid, mode 2770: HAProxy, which runs as the proxy
 * uid with the docker group as its group (identity.ts), may enter it and create its admin socket
 * there (mode 660: that uid's and the docker group's). Members of the docker group, who may run
 * any container as root anyway, can use the socket; nobody else can reach the directory. The file
 * is made group-readable whatever the SSH user's umask, since HAProxy reads it through its group.
 * The chgrp is best effort: ensureProxy refuses a host without a docker group before this runs.
 */
export function writeConfigCommand(content: string, hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const dir = shellQuote(hostDir);
  const write = replaceFileCommand(hostDir, CONFIG_FILE, content);
  return { ...write, command: `mkdir -p ${dir} && { chgrp ${PROXY_SOCKET_GROUP} ${dir} 2>/dev/null; chmod 2770 ${dir} 2>/dev/null; true; } && ${write.command}` };
}

/**
 * Every file of the proxy's directory is replaced this way: written beside it as a dot file (no
 * reader globs it), given its mode whatever the SSH user's umask, then renamed over the old one.
 */
export function replaceFileCommand(dir: string, file: string, content: string, mode = '640'): ShellCommand {
  const tmp = shellQuote(`${dir}/.${file}.tmp`);
  return { command: `cat > ${tmp} && chmod ${mode} ${tmp} && mv -f ${tmp} ${shellQuote(`${dir}/${file}`)}`, stdin: content };
}

/** Prints the file, or nothing with exit 3 when it does not exist (told apart from errors). */
export function readConfigCommand(hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const path = shellQuote(`${hostDir}/${CONFIG_FILE}`);
  return { command: `if [ -e ${path} ]; then cat ${path}; else exit 3; fi` };
}

/**
 * Removes the admin socket of a proxy that no longer runs, before gangway (re)starts one. HAProxy
 * keeps a hard link to the socket it replaces while it binds, and the kernel refuses a link to
 * another user's socket (fs.protected_hardlinks): one left by a root proxy of an earlier version
 * would stop the unprivileged one from starting ("error when trying to preserve previous UNIX
 * socket"). The directory is group-writable, so the SSH user may remove it.
 */
export function removeSocketCommand(hostDir: string = PROXY_HOST_DIR): ShellCommand {
  return { command: `rm -f ${shellQuote(hostSocketPath(hostDir))}` };
}
