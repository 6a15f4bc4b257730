// Bundles the CLI into ESM files in dist/: comfywire.mjs (the package's bin) and the chunks it
// loads on demand (dist/chunk-*.mjs, next to it so import.meta.url-relative paths are unchanged).
// Why: an MCP client launches the server and waits for its first answer; loading ~300 modules one
// by one costs Node about twice as long as parsing one file, and parsing code that the answer
// does not need (the engine, undici, ws, pg, winston, the simulator, install...) costs the rest.
// So the code is split: what `serve` needs to answer initialize and tools/list is read at start,
// everything reached through a dynamic import() comes in its own chunk when it is first used.
// sharp stays external (native addon), and so does pg-native, the optional binding pg requires
// only on demand.
import { readdirSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry a content hash: the ones of an earlier build would be packed with this one.
for (const name of readdirSync('dist', { withFileTypes: true })) {
  if (name.isFile() && /^chunk-.*\.mjs(\.map)?$/.test(name.name)) rmSync(`dist/${name.name}`);
}

await build({
  entryPoints: { comfywire: 'src/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // pg loads its optional native binding (pg-native) only when asked for; it is not installed.
  external: ['sharp', 'pg-native', '@ffmpeg-installer/ffmpeg'],
  // jsonc-parser's `main` is a UMD build whose require('./impl/...') calls esbuild cannot follow.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  // Bundled CommonJS dependencies (winston, undici...) call require(); give ESM one (each chunk
  // is a module of its own, so each gets the line).
  banner: { js: "import { createRequire as __comfywireRequire } from 'node:module'; const require = __comfywireRequire(import.meta.url);" },
  // Whitespace and syntax only: parsing a smaller file starts faster, and names stay readable in
  // stack traces (run with --enable-source-maps for source positions). The maps (~6 MB) are for a
  // checkout only: package.json's `files` leaves them out, and Node ignores a missing one.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
