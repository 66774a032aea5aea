// One engine event stream per run (filtered by the run's label), fanned out per container.
// Waits react to these (die, health_status) instead of polling `inspect`.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { runFilter } from './labels.js';
import type { ContainerEvent } from './waits/wait-strategy.js';

interface RawEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export class RunEvents {
  private readonly listeners = new Map<string, Set<(e: ContainerEvent) => void>>();
  private stream?: Readable;
  private opening?: Promise<void>;

  constructor(private readonly docker: Docker, private readonly runId: string) {}

  /** Opens the stream once; resolves when the engine accepted it, so no later event is missed. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      const stream = (await this.docker.getEvents({ filters: { ...runFilter(this.runId), type: ['container'] } })) as unknown as Readable;
      this.stream = stream;
      let pending = '';
      stream.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) this.dispatch(JSON.parse(line) as RawEvent);
      });
      // Closing on teardown ends the stream with an error on some engines; nothing waits on it then.
      stream.on('error', () => {});
    })();
    return this.opening;
  }

  on(containerId: string, listener: (e: ContainerEvent) => void): () => void {
    let set = this.listeners.get(containerId);
    if (!set) this.listeners.set(containerId, (set = new Set()));
    set.add(listener);
    return () => { set.delete(listener); };
  }

  close(): void {
    this.stream?.destroy();
    this.listeners.clear();
  }

  private dispatch(raw: RawEvent): void {
    const id = raw.Actor?.ID;
    if (!id || !raw.Action) return;
    const event: ContainerEvent = { action: raw.Action, attributes: raw.Actor?.Attributes ?? {} };
    for (const l of [...(this.listeners.get(id) ?? [])]) l(event);
  }
}
