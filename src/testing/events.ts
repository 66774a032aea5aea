// What the library reports progress to: steps (image pulls and builds, creating each definition)
// and warnings. Optional everywhere; gangway's own event bus fits it, and so does any object with
// these two methods, so the library needs nothing of the app to report.
export interface Events {
  step(step: string, status: 'start' | 'done' | 'fail' | 'skip', opts?: { message?: string; durationMs?: number }): void;
  log(message: string, opts?: { level?: 'info' | 'warn' | 'error'; step?: string }): void;
}
