// Starts one program from the compiled bundle in dist/js/ (`npm run build`, run by `npm ci` and
// `npm pack`), with source maps so stack traces name the TypeScript lines.
//
// An installed package has no sources and always runs the bundle. In a git checkout a bundle
// older than any source file would silently run old code, so there the sources win: when a file
// under client/, server/, voiced/ or gen/ (or the installed dependencies) changed after the last
// build, the program runs from TypeScript through tsx, as slow as before the build but current.
// DIALTONE_RUN_SOURCES=1 forces that.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCE_DIRS = ["client", "server", "voiced", "gen"];
// npm rewrites node_modules/.package-lock.json on every install: a dependency changed.
const INPUT_FILES = ["package.json", "package-lock.json", "build.js", join("node_modules", ".package-lock.json")];

/** Newest mtime (ms) of the files the bundle is built from, stopping early once one is newer than `than`. */
function sourcesNewerThan(than) {
  for (const file of INPUT_FILES) {
    try {
      if (statSync(join(ROOT, file)).mtimeMs > than) return true;
    } catch {
      // absent: nothing to compare
    }
  }
  for (const dir of SOURCE_DIRS) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || entry.name.endsWith(".test.ts")) continue;
      if (statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs > than) return true;
    }
  }
  return false;
}

function useBundle(name) {
  const bundle = join(ROOT, "dist", "js", `${name}.js`);
  if (!existsSync(bundle)) return undefined;
  if (!existsSync(join(ROOT, "client", "main.ts"))) return bundle;
  if (process.env.DIALTONE_RUN_SOURCES === "1") return undefined;
  const built = statSync(join(ROOT, "dist", "js", "BUILD"), { throwIfNoEntry: false })?.mtimeMs;
  return built !== undefined && !sourcesNewerThan(built) ? bundle : undefined;
}

/** Runs program `name` (dialtone, dialtone-server, dialtone-voiced) whose source entry is `source`. */
export async function launch(name, source) {
  const bundle = useBundle(name);
  if (bundle) {
    process.setSourceMapsEnabled(true);
    await import(pathToFileURL(bundle).href);
    return;
  }
  const sourceFile = join(ROOT, source);
  if (!existsSync(sourceFile)) {
    process.stderr.write(`${name}: ${join(ROOT, "dist", "js", `${name}.js`)} is missing: run npm run build\n`);
    process.exit(1);
  }
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(sourceFile).href);
}
