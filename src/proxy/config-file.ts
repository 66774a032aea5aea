// Shell lines that read and atomically replace haproxy.cfg on a host. The content travels on
// stdin; a reader never sees a half-written file because the final step is a rename.
import { shellQuote, type ShellCommand } from '../state/shell.js';
import { CONFIG_FILE, PROXY_HOST_DIR } from './paths.js';

export function writeConfigCommand(content: string, hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const dir = shellQuote(hostDir);
  const tmp = shellQuote(`${hostDir}/.${CONFIG_FILE}.tmp`);
  const dest = shellQuote(`${hostDir}/${CONFIG_FILE}`);
  return { command: `mkdir -p ${dir} && cat > ${tmp} && mv -f ${tmp} ${dest}`, stdin: content };
}

/** Prints the file, or nothing with exit 3 when it does not exist (told apart from errors). */
export function readConfigCommand(hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const path = shellQuote(`${hostDir}/${CONFIG_FILE}`);
  return { command: `if [ -e ${path} ]; then cat ${path}; else exit 3; fi` };
}
