import Docker from 'dockerode';
import { Events } from '../src/events/events.js';
import { ensureHostImage } from '../src/sandbox/images.js';
const events = new Events();
events.on((e: any) => { if (e.type === 'step') console.log(new Date().toISOString(), e.step, e.status, e.message ?? '', e.durationMs ?? ''); });
const t0 = Date.now();
const r = await ensureHostImage(new Docker(), 'bare-host', events);
console.log(JSON.stringify({ tag: r.tag, rootfs: r.rootfs, totalMs: Date.now() - t0 }));
