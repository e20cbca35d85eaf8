// Bundles the browser pages into shopcast/web/static/dist/ (served at /static/dist/).
// Fixed entry names: the HTML shells in shopcast/web/pages/ link them directly. Code only some
// visitors need (hls.js, for the HLS fallback and replays) is split into chunks loaded on demand.
import { build } from "esbuild";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = "shopcast/web/static/dist";

// `import catalogues from "shopcast:catalogues"`: every language file of shopcast/locales/, by its
// code, so adding a language is adding its file (the server reads the same files). Without the
// server's own reasons (`errors.…`): the API sends them written out, in the page's language.
const locales = `${root}shopcast/locales`;
const forPages = (code) => {
  const catalogue = JSON.parse(readFileSync(`${locales}/${code}.json`, "utf8"));
  return Object.fromEntries(Object.entries(catalogue).filter(([key]) => !key.startsWith("errors.")));
};
const catalogues = {
  name: "catalogues",
  setup(build) {
    build.onResolve({ filter: /^shopcast:catalogues$/ }, (args) => ({ path: args.path, namespace: "catalogues" }));
    build.onLoad({ filter: /.*/, namespace: "catalogues" }, () => {
      const codes = readdirSync(locales)
        .filter((name) => name.endsWith(".json"))
        .map((name) => name.slice(0, -".json".length))
        .sort();
      const entries = codes.map((code) => `${JSON.stringify(code)}: ${JSON.stringify(forPages(code))}`);
      return {
        contents: `export default { ${entries.join(", ")} };`,
        resolveDir: locales,
        watchFiles: codes.map((code) => `${locales}/${code}.json`),
      };
    });
  },
};

// Chunk names carry a hash: start empty so old chunks do not pile up.
rmSync(new URL(`../${outdir}`, import.meta.url), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  // Each page's folder has its page.js (which imports its page.css); the output keeps the page's name.
  entryPoints: [
    { in: "frontend/src/manager/page.js", out: "manager" },
    { in: "frontend/src/report/page.js", out: "report" },
    { in: "frontend/src/studio/page.js", out: "studio" },
    { in: "frontend/src/watch/page.js", out: "watch" },
    { in: "frontend/src/claim/page.js", out: "claim" },
    // Pages without a script of their own (the "not found" page) use the shared look alone.
    { in: "frontend/src/shared/base.css", out: "base" },
  ],
  outdir,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  plugins: [catalogues],
  logLevel: "info",
});
