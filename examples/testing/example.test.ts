// A complete container test you can copy: a reverse proxy in front of an app in front of a
// key-value service, started by vitest fixtures and reached through the proxy's published port.
// In your project, import from 'gangway/testing' instead of the relative paths used here.
// Copy it (with services.ts and images.ts) into your test folder and run it with vitest. In this
// repository it runs in the `integration` project (npx vitest run --project integration examples/testing).
import { test as base, expect } from 'vitest';
import { vitestFixtures } from '../../src/testing/index.js';
import { app, kv, proxy } from './services.js';

// scope 'file': the three containers are started once for this file; between tests each one's
// `clean` hook resets it (kv empties its store) instead of recreating it.
const test = base.extend(vitestFixtures({ proxy, app, kv }, { scope: 'file' }));

test('stores a value through the proxy and reads it back', async ({ proxy }) => {
  expect((await proxy.http.get('/cgi-bin/set?colour=teal')).status).toBe(200);
  const res = await proxy.http.get('/cgi-bin/get?colour');
  expect(await res.text()).toBe('teal\n');
});

test('starts every test with an empty store', async ({ proxy }) => {
  expect((await proxy.http.get('/cgi-bin/get?colour')).status).toBe(502);
});

test('the kv service logs and files can be inspected directly', async ({ kv, proxy }) => {
  await proxy.http.get('/cgi-bin/set?size=large');
  expect(await kv.logs()).toContain('kv: serving /data on :8080');
  expect((await kv.exec(['cat', '/data/size'])).stdout).toBe('large');
});
