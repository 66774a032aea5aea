// A sleep that an abort ends early (batch waits stop at an interrupt). The abort listener goes
// when the sleep ends either way: a loop of sleeps on one signal (a canary's polls) adds none.
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * `p`, or `fallback` after `ms`. The timer is cleared when `p` settles, so it never holds the
 * process at its end. `p` itself is not cancelled: a late answer is ignored.
 */
export function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
