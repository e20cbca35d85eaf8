// Bundles the browser pages into shopcast/web/static/dist/ (served at /static/dist/).
// Fixed file names: the HTML shells in shopcast/web/pages/ link them directly.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ["frontend/src/manager.js"],
  outdir: "shopcast/web/static/dist",
  entryNames: "[name]",
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  logLevel: "info",
});
