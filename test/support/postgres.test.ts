import { afterAll, expect, test } from "@jest/globals";
import { existsSync } from "node:fs";
import postgres from "postgres";
import { isPortOpen } from "./ports.js";
import { findPostgresBinDir, startPostgres, type TestPostgres } from "./postgres.js";

let cluster: TestPostgres | undefined;
afterAll(() => cluster?.stop());

test("starts a cluster, isolates databases, stops and cleans up", async () => {
  const t0 = performance.now();
  cluster = await startPostgres();
  const startMs = performance.now() - t0;
  expect(startMs).toBeLessThan(15_000); // ~1.5 s here; slack for a CI machine running every suite at once

  const urls = [await cluster.createDatabase(), await cluster.createDatabase("named_db")];
  expect(urls[1]).toMatch(/\/named_db$/);
  expect(urls[0]).not.toBe(urls[1]);

  for (const [i, url] of urls.entries()) {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await sql`CREATE TABLE only_here (n int)`;
      await sql`INSERT INTO only_here VALUES (${i})`;
      const rows = await sql<{ n: number; db: string }[]>`SELECT n, current_database() AS db FROM only_here`;
      expect(rows).toEqual([{ n: i, db: new URL(url).pathname.slice(1) }]);
    } finally {
      await sql.end();
    }
  }

  const { port, baseDir } = cluster;
  expect(await isPortOpen(port)).toBe(true);
  await cluster.stop();
  await cluster.stop(); // idempotent
  expect(await isPortOpen(port)).toBe(false);
  expect(existsSync(baseDir)).toBe(false);
});

test("bad database names are refused before reaching SQL", async () => {
  const c = await startPostgres();
  try {
    await expect(c.createDatabase('x"; DROP')).rejects.toThrow(/bad database name/);
  } finally {
    await c.stop();
  }
});

test("a missing installation fails loudly with the apt command", () => {
  expect(() => findPostgresBinDir("/nonexistent/postgresql")).toThrow(/initdb is missing.*apt-get install -y postgresql/);
});
