// Bundles the compiled CLI (dist/cli/main.js, from tsc) into dist/bundle/ for bin/gangway.js.
// Why: Node resolves and reads every module of the import graph at start-up, a few hundred files
// across zod, yaml, commander and gangway's own modules; one bundle per command cuts ~100 ms of
// CPU from every command's start (docs/architecture.md, "Start-up"). The library entry points
// (dist/index.js, dist/testing/) stay tsc's output.
// Kept out of the bundle: ssh2 (its optional native crypto binding is found next to its own
// files), dockerode (its gRPC session code loads .proto files by path) and selfsigned (CommonJS,
// imported with import(): see below); they load from node_modules as before, dockerode and
// selfsigned still only when first needed. Lazy imports stay lazy: each import() is its own chunk.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', 'dockerode', 'selfsigned', 'cpu-features', '*.node'],
  // CommonJS packages inside an ES module bundle still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __gangwayRequire } from 'node:module'; const require = __gangwayRequire(import.meta.url);" },
  logLevel: 'warning',
});

// A CommonJS package reached by import() becomes a chunk whose only export is `default`: the named
// exports Node would give it are gone (`const { generate } = await import('selfsigned')` broke
// every deploy's file sync this way). Such a package must be external; the build says which.
const lost = readdirSync(outdir).filter((f) => /^export default require_[\w$]+\(\);\s*$/m.test(readFileSync(join(outdir, f), 'utf8')));
if (lost.length > 0) {
  console.error(`bundle-cli: ${lost.join(', ')}: a CommonJS package imported with import() loses its named exports when bundled; add it to \`external\` in scripts/bundle-cli.mjs`);
  process.exit(1);
}
