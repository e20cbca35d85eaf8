// Bundles the browser pages into shopcast/web/static/dist/ (served at /static/dist/).
// Fixed entry names: the HTML shells in shopcast/web/pages/ link them directly. Code only some
// visitors need (hls.js, for the HLS fallback and replays) is split into chunks loaded on demand.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = "shopcast/web/static/dist";

// Chunk names carry a hash: start empty so old chunks do not pile up.
rmSync(new URL(`../${outdir}`, import.meta.url), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: [
    "frontend/src/manager.js",
    "frontend/src/studio.js",
    "frontend/src/watch.js",
    "frontend/src/claim.js",
    // Pages without a script of their own (the "not found" page) use the shared look alone.
    "frontend/src/base.css",
  ],
  outdir,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  logLevel: "info",
});
