// A bounded load for the demo: GET the URL (fresh connections and keep-alive alternately) until
// the stop file appears or maxSeconds pass, then print what was answered.
import { existsSync } from 'node:fs';
import http from 'node:http';

const [url, stopFile, maxSeconds = '120'] = process.argv.slice(2);
const deadline = Date.now() + Number(maxSeconds) * 1000;
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
const counts = new Map();
let n = 0;
const get = (agent) => new Promise((resolve) => {
  const req = http.get(url, { agent, timeout: 5000 }, (res) => { res.resume(); res.on('end', () => resolve(String(res.statusCode))); });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (err) => resolve(err.code ?? err.message));
});
while (!existsSync(stopFile) && Date.now() < deadline) {
  const result = await get(n % 2 === 0 ? keepAlive : false);
  counts.set(result, (counts.get(result) ?? 0) + 1);
  n++;
}
keepAlive.destroy();
const failed = n - (counts.get('200') ?? 0);
console.log(`load: ${n} requests during the deploy, ${failed} failed (${[...counts].map(([k, v]) => `${k}: ${v}`).join(', ')})`);
process.exit(failed === 0 ? 0 : 1);
