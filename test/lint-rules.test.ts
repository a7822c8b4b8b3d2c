// The layering rules in biome.jsonc, tried the way they would be broken: each planted file below
// imports across a boundary (or stays inside it), Biome lints the tree with the repository's own
// configuration, and exactly the planted violations must be reported.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "..");
const BIOME = path.join(ROOT, "node_modules", "@biomejs", "biome", "bin", "biome");

const RESTRICTED = "lint/style/noRestrictedImports";
const CYCLE = "lint/suspicious/noImportCycles";

/** path → source; `expect` is the rule that must fire on it, or undefined when none may. */
const planted: Array<{ file: string; source: string; expect: string | undefined; why: string }> = [
  {
    file: "client/crypto/io.ts",
    source: `import { readFileSync } from "node:fs";\nexport const f = readFileSync;\n`,
    expect: RESTRICTED,
    why: "client/crypto does no I/O",
  },
  {
    file: "client/crypto/net.ts",
    source: `import net from "net";\nexport const f = net;\n`,
    expect: RESTRICTED,
    why: "bare module names count too",
  },
  {
    file: "client/crypto/rpc.ts",
    source: `import { Code } from "@connectrpc/connect";\nexport const c = Code;\n`,
    expect: RESTRICTED,
    why: "client/crypto knows no transport",
  },
  {
    file: "client/crypto/random.ts",
    source: `import { randomBytes } from "node:crypto";\nexport const r = randomBytes;\n`,
    expect: undefined,
    why: "randomness is not I/O",
  },
  {
    file: "client/crypto/vectors.test.ts",
    source: `import { readFileSync } from "node:fs";\nexport const f = readFileSync;\n`,
    expect: undefined,
    why: "tests read their vector files",
  },
  {
    file: "server/domain/io.ts",
    source: `import { createServer } from "node:http2";\nexport const s = createServer;\n`,
    expect: RESTRICTED,
    why: "server/domain does no I/O",
  },
  {
    file: "server/domain/rpc.ts",
    source: `import { connectNodeAdapter } from "@connectrpc/connect-node";\nexport const a = connectNodeAdapter;\n`,
    expect: RESTRICTED,
    why: "server/domain knows no transport",
  },
  {
    file: "server/domain/feed.ts",
    source: `import { Feed } from "../events/feed.js";\nexport const f = Feed;\n`,
    expect: RESTRICTED,
    why: "server/domain uses ports, not server/events",
  },
  { file: "server/events/feed.ts", source: `export class Feed {}\n`, expect: undefined, why: "(target of the above)" },
  {
    file: "server/db/repo.ts",
    source: `import { rule } from "../domain/rule.js";\nexport const r = rule;\n`,
    expect: RESTRICTED,
    why: "server/db imports no layer above it",
  },
  { file: "server/domain/rule.ts", source: `export const rule = 1;\n`, expect: undefined, why: "(target of the above)" },
  {
    file: "client/ui/screen.ts",
    source: `import { format } from "../cli/format.js";\nexport const f = format;\n`,
    expect: RESTRICTED,
    why: "client/ui does not import client/cli",
  },
  { file: "client/cli/format.ts", source: `export const format = 1;\n`, expect: undefined, why: "(target of the above)" },
  {
    file: "client/core/harness.ts",
    source: `import { api } from "../../test/support/api.js";\nexport const a = api;\n`,
    expect: RESTRICTED,
    why: "production code imports no test/",
  },
  {
    file: "server/http/helper.ts",
    source: `import { h } from "./test-support.js";\nexport const a = h;\n`,
    expect: RESTRICTED,
    why: "production code imports no *test-support* file",
  },
  {
    file: "client/core/sync.test.ts",
    source: `import { api } from "../../test/support/api.js";\nexport const a = api;\n`,
    expect: undefined,
    why: "tests may use test/support",
  },
  { file: "test/support/api.ts", source: `export const api = 1;\n`, expect: undefined, why: "(target of the above)" },
  {
    file: "voiced/session/deep.ts",
    source: `import { Sync } from "../../client/core/sync.js";\nexport const s = Sync;\n`,
    expect: RESTRICTED,
    why: "voiced uses client/ only through its entry points",
  },
  {
    file: "voiced/session/ok.ts",
    source: `import { Sync } from "../../client/core/index.js";\nimport { seal } from "../../client/crypto/index.js";\nexport const s = [Sync, seal];\n`,
    expect: undefined,
    why: "the public entry points are fine",
  },
  { file: "server/a.ts", source: `import { b } from "./b.js";\nexport const a = () => b;\n`, expect: CYCLE, why: "a → b → a" },
  {
    file: "server/b.ts",
    source: `import type { a } from "./a.js";\nexport const b: typeof a | undefined = undefined;\n`,
    expect: CYCLE,
    why: "a type-only import closes a cycle too",
  },
];

let dir: string;
let diagnostics: Array<{ category: string; path: string; message: string }>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "dialtone-lint-"));
  await copyFile(path.join(ROOT, "biome.jsonc"), path.join(dir, "biome.jsonc"));
  for (const p of planted) {
    await mkdir(path.dirname(path.join(dir, p.file)), { recursive: true });
    await writeFile(path.join(dir, p.file), p.source);
  }
  // Biome exits non-zero when it reports errors: that is the expected case here.
  const out = await run(process.execPath, [BIOME, "lint", "--vcs-enabled=false", "--reporter=json", "--max-diagnostics=none", "."], {
    cwd: dir,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    if (!err.stdout) throw new Error(`biome did not run: ${err.stderr ?? String(err)}`);
    return { stdout: err.stdout };
  });
  const report = JSON.parse(out.stdout.slice(out.stdout.indexOf("{"))) as {
    diagnostics: Array<{ category: string; message: string; location: { path: string } }>;
  };
  diagnostics = report.diagnostics.map((d) => ({ category: d.category, path: d.location.path, message: d.message }));
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("biome.jsonc layering rules", () => {
  test.each(planted.map((p) => [p.file, p.why, p.expect] as const))("%s (%s)", (file, _why, rule) => {
    const hits = diagnostics.filter((d) => d.path === file && (d.category === RESTRICTED || d.category === CYCLE));
    if (rule === undefined) expect(hits).toEqual([]);
    else expect(hits.map((h) => h.category)).toContain(rule);
  });

  test("each violation names the rule it breaks", () => {
    const messages = diagnostics.filter((d) => d.category === RESTRICTED).map((d) => `${d.path}: ${d.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^client\/crypto\/io\.ts: client\/crypto does no I\/O/),
        expect.stringMatching(/^server\/db\/repo\.ts: server\/db is the bottom layer/),
        expect.stringMatching(/^client\/ui\/screen\.ts: client\/ui does not import client\/cli/),
        expect.stringMatching(/^voiced\/session\/deep\.ts: voiced uses client\/ only through/),
      ]),
    );
  });
});
