// The CLI under a real pseudo-terminal, driven from a test: python3's os.openpty (python3 is on
// every machine scripts/setup.sh prepares) runs the child with the PTY as its controlling
// terminal; the test writes keys, resizes the PTY (the kernel sends the child SIGWINCH), sends
// signals, and reads what the child wrote. At the end the driver reports the exit code and
// whether the terminal was left in cooked mode (ICANON and ECHO set), read from the slave side.
import { spawn } from 'node:child_process';
import { BIN, TEST_SECRET } from './deploy.js';

const DRIVER = String.raw`
import fcntl, json, os, select, struct, sys, termios, time
rows, cols = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[3:]
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
pid = os.fork()
if pid == 0:
    os.close(master)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.close(slave)
    os.execvp(argv[0], argv)
ctl, pending, status = sys.stdin.fileno(), b'', None
def pump(timeout):
    r, _, _ = select.select([master], [], [], timeout)
    if master in r:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b''
        if data:
            os.write(1, data)
            return True
    return False
while status is None:
    fds = [master] + ([ctl] if ctl is not None else [])
    r, _, _ = select.select(fds, [], [], 0.05)
    if master in r:
        pump(0)
    if ctl is not None and ctl in r:
        chunk = os.read(ctl, 65536)
        if not chunk:
            ctl = None
        pending += chunk
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            msg = json.loads(line)
            if 'write' in msg:
                os.write(master, msg['write'].encode())
            elif 'resize' in msg:
                fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', msg['resize'][0], msg['resize'][1], 0, 0))
            elif 'signal' in msg:
                os.kill(pid, msg['signal'])
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
while pump(0.2):
    pass
lflag = termios.tcgetattr(slave)[3]
sys.stderr.write(json.dumps({'exit': status, 'icanon': bool(lflag & termios.ICANON), 'echo': bool(lflag & termios.ECHO)}) + '\n')
`;

export interface PtyEnd {
  /** The child's exit code (negative: killed by that signal). */
  exit: number;
  /** The terminal is back in cooked mode. */
  icanon: boolean;
  echo: boolean;
}

export interface PtySession {
  /** Everything the child wrote to the terminal so far. */
  output(): string;
  write(text: string): void;
  resize(rows: number, columns: number): void;
  signal(name: 'SIGTERM' | 'SIGHUP' | 'SIGINT' | 'SIGKILL'): void;
  /** Waits until the output written after `from` (an output().length) matches; bounded. */
  waitFor(pattern: RegExp, timeoutMs: number, from?: number): Promise<string>;
  /** Settles when the child has exited and the driver reported. */
  ended: Promise<PtyEnd>;
  /** Kills the driver: the PTY closes and the child gets the kernel's SIGHUP. */
  kill(): void;
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as const;

/** Runs the built CLI with `args` under a PTY of rows x columns; the driver is killed after timeoutMs. */
export function gangwayInPty(args: string[], opts: { cwd: string; rows: number; columns: number; timeoutMs: number }): PtySession {
  const child = spawn('python3', ['-c', DRIVER, String(opts.rows), String(opts.columns), process.execPath, BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', HELLO_SECRET: TEST_SECRET },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let report = '';
  const watchers = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    for (const w of watchers) w();
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { report += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
  const ended = new Promise<PtyEnd>((resolve, reject) => {
    child.on('close', () => {
      clearTimeout(timer);
      for (const w of watchers) w();
      const last = report.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as PtyEnd);
      } catch {
        reject(new Error(`pty driver ended without a report: ${report}\noutput:\n${out}`));
      }
    });
  });
  ended.catch(() => {});
  const send = (msg: object) => child.stdin.write(`${JSON.stringify(msg)}\n`);
  return {
    output: () => out,
    write: (text) => send({ write: text }),
    resize: (rows, columns) => send({ resize: [rows, columns] }),
    signal: (name) => send({ signal: SIGNALS[name] }),
    waitFor(pattern, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.slice(from).match(pattern);
          if (m) {
            finish();
            resolve(m[0]);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(new Error(`the session ended before ${pattern} appeared; output:\n${out}`));
          }
        };
        const t = setTimeout(() => {
          finish();
          reject(new Error(`${pattern} did not appear within ${timeoutMs} ms; output:\n${out}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(t);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    ended,
    kill: () => child.kill('SIGKILL'),
  };
}
