// The three-container example in the spirit of Seaworthy: a reverse proxy in front of an app in
// front of a database-like service. The app and the kv service share a volume; the proxy
// reaches the app on one network, the app reaches kv on another, each by its definition name.
import { container, network, volume, wait } from '../../src/testing/index.js';
import { appContext, kvContext, proxyContext } from './images.js';

export const frontNet = network('front');
export const backNet = network('back');
export const sharedData = volume('shared');

export const kv = container('kv', {
  image: { build: kvContext(), name: 'example-kv' },
  networks: [backNet],
  mounts: [{ volume: sharedData, target: '/data' }],
  wait: wait.forLog(/kv: serving/),
  // Between tests that share it, the store is emptied instead of recreating the container.
  clean: async (self) => { await self.exec(['sh', '-c', 'rm -f /data/*']); },
});

export const app = container('app', {
  image: { build: appContext(), name: 'example-app' },
  env: { KV_URL: 'http://kv:8080' },
  ports: [8080],
  networks: [frontNet, backNet],
  mounts: [{ volume: sharedData, target: '/www/shared', readOnly: true }],
  dependsOn: [kv],
  wait: wait.forHttp('/health'),
});

export const proxy = container('proxy', {
  image: { build: proxyContext(), name: 'example-proxy' },
  env: { UPSTREAM: 'app:8080' },
  ports: [8080],
  networks: [frontNet],
  dependsOn: [app],
  wait: wait.forHttp('/health'),
});
