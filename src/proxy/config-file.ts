// Shell lines that read and atomically replace haproxy.cfg on a host. The content travels on
// stdin; a reader never sees a half-written file because the final step is a rename.
import { shellQuote, type ShellCommand } from '../state/shell.js';
import { CONFIG_FILE, PROXY_HOST_DIR, PROXY_SOCKET_GROUP } from './paths.js';

/**
 * The directory belongs to the docker group, setgid, mode 2770: the admin socket HAProxy creates
 * in it (as root, mode 660) takes that group, so members of the docker group, who may run any
 * container as root anyway, can use it, and nobody else can reach it. Best effort: a host without
 * a docker group keeps the directory's group, and the socket stays root's and that group's.
 */
export function writeConfigCommand(content: string, hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const dir = shellQuote(hostDir);
  const tmp = shellQuote(`${hostDir}/.${CONFIG_FILE}.tmp`);
  const dest = shellQuote(`${hostDir}/${CONFIG_FILE}`);
  return {
    command: `mkdir -p ${dir} && { chgrp ${PROXY_SOCKET_GROUP} ${dir} 2>/dev/null; chmod 2770 ${dir} 2>/dev/null; true; } && cat > ${tmp} && mv -f ${tmp} ${dest}`,
    stdin: content,
  };
}

/** Prints the file, or nothing with exit 3 when it does not exist (told apart from errors). */
export function readConfigCommand(hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const path = shellQuote(`${hostDir}/${CONFIG_FILE}`);
  return { command: `if [ -e ${path} ]; then cat ${path}; else exit 3; fi` };
}
