// Bundles the CLI into one ESM file, dist/comfywire.mjs (the package's bin).
// Why: an MCP client launches the server and waits for it; loading ~300 modules one by one
// costs Node about twice as long as parsing one file. sharp stays external (native addon), and so
// does pg-native, the optional binding pg requires only on demand.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/comfywire.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // pg loads its optional native binding (pg-native) only when asked for; it is not installed.
  external: ['sharp', 'pg-native'],
  // jsonc-parser's `main` is a UMD build whose require('./impl/...') calls esbuild cannot follow.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  // Bundled CommonJS dependencies (winston, undici...) call require(); give ESM one.
  banner: { js: "import { createRequire as __comfywireRequire } from 'node:module'; const require = __comfywireRequire(import.meta.url);" },
  // Whitespace and syntax only: parsing a smaller file starts faster, and names stay readable in
  // stack traces (run with --enable-source-maps for source positions). The map (~6 MB) is for a
  // checkout only: package.json's `files` leaves it out, and Node ignores a missing one.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
