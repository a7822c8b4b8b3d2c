// PGlite on its own thread (pglite-thread.ts) behaves as PGlite in-process does for what the
// server uses: statements, transactions that commit or roll back and hold the lock meanwhile,
// PostgreSQL errors with their fields, dumps; and a dead thread fails calls instead of hanging them.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { isForeignKeyViolation, isUniqueViolation } from "./client.js";
import { pgliteStartParams } from "./pglite.js";
import { PGliteThread } from "./pglite-thread.js";

let db: PGliteThread;
beforeAll(async () => {
  db = await PGliteThread.create({ startParams: pgliteStartParams() });
  await db.query("CREATE TABLE p (id int PRIMARY KEY)");
  await db.query(
    "CREATE TABLE t (id int PRIMARY KEY, p int REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED, at timestamptz, big bigint, b bytea)",
  );
  await db.query("INSERT INTO p VALUES (1)");
}, 60_000);
afterAll(async () => {
  await db.close();
});

const count = async () => Number(((await db.query("SELECT count(*)::int AS n FROM t")).rows[0] as { n: number }).n);

test("statements with parameters; timestamps stay strings, bytea comes back as bytes", async () => {
  await db.query("INSERT INTO t VALUES ($1, 1, $2, $3, $4)", [1, "2026-12-02T10:00:00Z", 9007199254740993n, new Uint8Array([1, 2, 3])]);
  const { rows } = await db.query("SELECT id, at, big, b FROM t WHERE id = $1", [1], { rowMode: "array" });
  expect(rows).toEqual([[1, expect.stringMatching(/^2026-12-02 10:00:00/), 9007199254740993n, new Uint8Array([1, 2, 3])]]);
  await db.query("DELETE FROM t");
});

test("a transaction commits when its function resolves and rolls back when it throws", async () => {
  await db.transaction(async (tx) => {
    await tx.query("INSERT INTO t (id, p) VALUES (10, 1)");
  });
  await expect(
    db.transaction(async (tx) => {
      await tx.query("INSERT INTO t (id, p) VALUES (11, 1)");
      throw new Error("changed my mind");
    }),
  ).rejects.toThrow("changed my mind");
  expect(await count()).toBe(1);
  await db.query("DELETE FROM t");
});

test("a statement from outside waits for an open transaction, which sees only its own writes", async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let inside!: () => void;
  const began = new Promise<void>((r) => (inside = r));
  const order: string[] = [];
  const tx = db.transaction(async (q) => {
    await q.query("INSERT INTO t (id, p) VALUES (20, 1)");
    inside();
    await held;
    order.push("tx done");
  });
  await began;
  const outside = count().then((n) => {
    order.push(`outside saw ${n}`);
  });
  await new Promise((r) => setTimeout(r, 100));
  expect(order).toEqual([]); // still waiting for the transaction's lock
  release();
  await Promise.all([tx, outside]);
  expect(order).toEqual(["tx done", "outside saw 1"]);
  await db.query("DELETE FROM t");
});

test("PostgreSQL errors keep their code and constraint; a failing COMMIT reaches the caller", async () => {
  await db.query("INSERT INTO t (id, p) VALUES (30, 1)");
  const dup = await db.query("INSERT INTO t (id, p) VALUES (30, 1)").catch((e: unknown) => e);
  expect(isUniqueViolation(dup)).toBe(true);
  // The deferred foreign key is checked at COMMIT.
  const late = await db
    .transaction(async (tx) => {
      await tx.query("INSERT INTO t (id, p) VALUES (31, 99)");
    })
    .catch((e: unknown) => e);
  expect(isForeignKeyViolation(late, "t_p_fkey")).toBe(true);
  expect(await count()).toBe(1);
  await db.query("DELETE FROM t");
});

test("a dump holds the data, and loads into a new thread", async () => {
  await db.query("INSERT INTO t (id, p) VALUES (40, 1)");
  const copy = await PGliteThread.create({ startParams: pgliteStartParams(), loadDataDir: await db.dumpDataDir() });
  try {
    expect((await copy.query("SELECT id FROM t")).rows).toEqual([{ id: 40 }]);
  } finally {
    await copy.close();
  }
  await db.query("DELETE FROM t");
}, 60_000);

test("calls on a closed thread fail instead of waiting forever", async () => {
  const other = await PGliteThread.create({ startParams: pgliteStartParams() });
  await other.close();
  await expect(other.query("SELECT 1")).rejects.toThrow(/thread exited/);
}, 60_000);
