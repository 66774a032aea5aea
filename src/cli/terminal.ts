// The local terminal of an interactive exec: raw mode (every key, Ctrl-C included, becomes bytes
// for the remote program), its size and resizes, and the one restore that every exit path runs.
import type { ReadStream, WriteStream } from 'node:tty';
import { terminalSize, type TerminalSize } from '../app/exec-plan.js';

export interface LocalTerminal {
  /** stdin is a terminal: the session gets a PTY. */
  readonly tty: boolean;
  size(): TerminalSize | undefined;
  /** Calls back on every resize (SIGWINCH); returns the unsubscribe. */
  onResize(listener: (size: TerminalSize) => void): () => void;
  /** Raw mode on stdin; idempotent. */
  enterRaw(): void;
  /** Leaves raw mode and stops reading stdin; idempotent, safe from an 'exit' handler. */
  restore(): void;
}

type Input = NodeJS.ReadStream & Partial<Pick<ReadStream, 'setRawMode'>>;
type Output = NodeJS.WriteStream & Partial<Pick<WriteStream, 'rows' | 'columns'>>;

/**
 * The terminal of this process. The size is read from the first of stdout and stderr that is a
 * terminal (stdout may be redirected to a file while the session is still typed in).
 */
export function localTerminal(stdin: Input = process.stdin, outputs: Output[] = [process.stdout, process.stderr]): LocalTerminal {
  const tty = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const sizer = outputs.find((o) => o.isTTY);
  let raw = false;
  const restoreOnExit = () => restore();
  function restore(): void {
    if (raw) {
      raw = false;
      try {
        stdin.setRawMode!(false);
      } catch {
        // stdin already closed (terminal gone): nothing left to restore.
      }
      process.off('exit', restoreOnExit);
    }
    stdin.pause();
  }
  return {
    tty,
    size: () => (sizer ? terminalSize(sizer.rows, sizer.columns) : undefined),
    onResize(listener) {
      if (!sizer) return () => {};
      const onResize = () => {
        const size = terminalSize(sizer.rows, sizer.columns);
        if (size) listener(size);
      };
      sizer.on('resize', onResize);
      return () => sizer.off('resize', onResize);
    },
    enterRaw() {
      if (!tty || raw) return;
      stdin.setRawMode!(true);
      raw = true;
      // The last resort: whatever ends the process, the user's shell gets its terminal back.
      process.on('exit', restoreOnExit);
    },
    restore,
  };
}
