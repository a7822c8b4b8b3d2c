// bin/launch.js decides between the compiled bundle and the TypeScript sources. In a package
// root of its own (the real launcher, a one-line bundle and source that say which ran, this
// checkout's node_modules for tsx), each case is a real `node bin/dialtone.js` process.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeEach, expect, test } from "@jest/globals";
import { cleanEnv, REPO, tempDir } from "./support/process.js";

const root = tempDir("dialtone-launch-");
const at = (...p: string[]) => path.join(root.dir, ...p);
const hourAgo = new Date(Date.now() - 3_600_000);
// The build is stamped now (after this checkout's own npm install); edits come later.
const built = new Date();
const later = new Date(Date.now() + 60_000);

function write(file: string, text: string, mtime: Date): void {
  mkdirSync(path.dirname(at(file)), { recursive: true });
  writeFileSync(at(file), text);
  utimesSync(at(file), mtime, mtime);
}

/** A checkout built now from sources saved an hour ago. */
function freshCheckout(): void {
  rmSync(root.dir, { recursive: true, force: true });
  mkdirSync(at("bin"), { recursive: true });
  copyFileSync(path.join(REPO, "bin", "launch.js"), at("bin", "launch.js"));
  copyFileSync(path.join(REPO, "bin", "dialtone.js"), at("bin", "dialtone.js"));
  write("package.json", JSON.stringify({ type: "module" }), hourAgo);
  symlinkSync(path.join(REPO, "node_modules"), at("node_modules"));
  write("client/main.ts", 'const ran: string = "sources";\nconsole.log(ran);\n', hourAgo);
  for (const dir of ["server", "voiced", "gen"]) write(`${dir}/x.ts`, "export {};\n", hourAgo);
  write("dist/js/dialtone.js", 'console.log("bundle");\n', built);
  write("dist/js/BUILD", "", built);
}

function run(env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [at("bin", "dialtone.js")], { env: cleanEnv(env), cwd: root.dir }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

beforeEach(freshCheckout);
afterAll(() => root.remove());

test("a checkout whose build is newer than every source runs the bundle", async () => {
  expect(await run()).toBe("bundle");
});

test("a source saved after the build runs the sources, so edits take effect without a rebuild", async () => {
  write("server/x.ts", "export const edited = 1;\n", later);
  expect(await run()).toBe("sources");
});

test("a test file saved after the build does not count", async () => {
  write("client/x.test.ts", "export {};\n", later);
  expect(await run()).toBe("bundle");
});

test("dependencies installed after the build run the sources", async () => {
  // (node_modules here is this checkout's, symlinked: package-lock.json stands in for it.)
  write("package-lock.json", "{}", later);
  expect(await run()).toBe("sources");
});

test("DIALTONE_RUN_SOURCES=1 runs the sources even with a fresh build", async () => {
  expect(await run({ DIALTONE_RUN_SOURCES: "1" })).toBe("sources");
});

test("an installed package (no sources) runs its bundle however old", async () => {
  for (const dir of ["client", "server", "voiced", "gen"]) rmSync(at(dir), { recursive: true });
  write("dist/js/BUILD", "", hourAgo);
  expect(await run({ DIALTONE_RUN_SOURCES: "1" })).toBe("bundle");
});

test("a checkout without a build runs the sources", async () => {
  rmSync(at("dist"), { recursive: true });
  expect(await run()).toBe("sources");
});
