// The embedded PostgreSQL (PGlite) on a worker thread of its own. PGlite runs PostgreSQL in
// WebAssembly on the thread that calls it, synchronously: on the server's main thread every
// statement held up the event loop (~3 ms of a Send on PGlite, a page of history more), and with
// it the fan-out of events to streams and every other request. Here the main thread only posts
// the statement and its parameters and gets the rows back (issue 14).
//
// PGliteThread offers what drizzle's PGlite driver calls (query, transaction) and what the server
// needs besides (dumpDataDir, close). A transaction holds PGlite's own lock on the worker, as it
// would in-process: statements from outside it wait until it ends.
import { Worker } from "node:worker_threads";

export interface PGliteThreadOptions {
  dataDir?: string;
  loadDataDir?: Blob;
  startParams: string[];
}

interface QueryOptions {
  rowMode?: "array" | "object";
  /** drizzle passes identity parsers for date/time types; the worker applies the same set. */
  parsers?: unknown;
}

export interface QueryResult {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}

export interface Queryable {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult>;
}

type Request =
  | { op: "query"; sql: string; params: unknown[]; rowMode: "array" | "object"; tx: number }
  | { op: "begin"; tx: number }
  | { op: "end"; tx: number; commit: boolean }
  | { op: "dump" }
  | { op: "close" };

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** A PostgreSQL error's fields (structured clone keeps only message and name of an Error). */
interface SerializedError {
  message: string;
  fields: Record<string, unknown>;
}

// The worker's code, plain JavaScript run with eval (no build step or TypeScript loader needed in
// the thread). It imports PGlite by the URL the server resolved.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const { PGlite, types } = await import(workerData.pglite);
  const same = (v) => v;
  // drizzle's PGlite driver keeps these types as the strings PostgreSQL sends.
  const parsers = { [types.TIMESTAMP]: same, [types.TIMESTAMPTZ]: same, [types.INTERVAL]: same, [types.DATE]: same,
    1231: same, 1115: same, 1185: same, 1187: same, 1182: same };
  const o = workerData.options;
  let db;
  try {
    db = await PGlite.create({
      startParams: o.startParams,
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...(o.loadDataDir ? { loadDataDir: new Blob([o.loadDataDir]) } : {}),
    });
  } catch (err) {
    parentPort.postMessage({ id: 0, ok: false, error: serialize(err) });
    return;
  }
  const txs = new Map(); // tx id -> { tx, end(commit), result: the transaction's promise }
  const ROLLBACK = new Error("rollback");
  function serialize(err) {
    const fields = {};
    for (const k of ["code", "constraint", "constraint_name", "detail", "hint", "table", "column", "schema", "severity", "position", "where"]) {
      if (err && err[k] !== undefined) fields[k] = err[k];
    }
    return { message: String(err && err.message || err), fields };
  }
  async function handle(m) {
    switch (m.op) {
      case "query": {
        const on = m.tx ? txs.get(m.tx) : undefined;
        if (m.tx && !on) throw new Error("transaction " + m.tx + " is not open");
        const r = await (on ? on.tx : db).query(m.sql, m.params, { rowMode: m.rowMode, parsers });
        return { rows: r.rows, fields: r.fields, affectedRows: r.affectedRows };
      }
      case "begin": {
        // PGlite's transaction() holds its lock until the callback settles: the callback waits
        // for "end". Statements outside it (query) wait for that lock, as in-process.
        const t = {};
        const opened = new Promise((resolve) => {
          t.result = db.transaction((tx) => new Promise((commit, rollback) => {
            t.tx = tx;
            t.end = (ok) => (ok ? commit() : rollback(ROLLBACK));
            resolve();
          }));
        });
        txs.set(m.tx, t);
        try {
          await Promise.race([opened, t.result]); // BEGIN itself may fail
        } catch (err) {
          txs.delete(m.tx);
          throw err;
        }
        return null;
      }
      case "end": {
        const t = txs.get(m.tx);
        if (!t) throw new Error("transaction " + m.tx + " is not open");
        t.end(m.commit);
        try {
          await t.result; // COMMIT may fail: the caller hears of it
        } catch (err) {
          if (err !== ROLLBACK) throw err;
        } finally {
          txs.delete(m.tx);
        }
        return null;
      }
      case "dump": {
        const file = await db.dumpDataDir("none");
        return new Uint8Array(await file.arrayBuffer());
      }
      case "close":
        await db.close();
        return null;
    }
  }
  parentPort.on("message", (m) => {
    handle(m).then(
      (value) => parentPort.postMessage({ id: m.id, ok: true, value }),
      (err) => parentPort.postMessage({ id: m.id, ok: false, error: serialize(err) }),
    );
  });
  parentPort.postMessage({ id: 0, ok: true, value: null });
})();
`;

/** An Error with the PostgreSQL fields the worker sent (code, constraint...), as PGlite raises it. */
function revive(e: SerializedError): Error {
  return Object.assign(new Error(e.message), e.fields);
}

export class PGliteThread implements Queryable {
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private nextTx = 1;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.value);
      else p.reject(revive(r.error));
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the embedded database's thread exited (${code})`)));
  }

  /** Starts PGlite on a new thread; resolves once it is open (or rejects with why it did not). */
  static async create(o: PGliteThreadOptions): Promise<PGliteThread> {
    const options = {
      startParams: o.startParams,
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...(o.loadDataDir ? { loadDataDir: new Uint8Array(await o.loadDataDir.arrayBuffer()) } : {}),
    };
    const worker = new Worker(WORKER, { eval: true, workerData: { pglite: import.meta.resolve("@electric-sql/pglite"), options } });
    const thread = new PGliteThread(worker);
    try {
      await thread.call(0, undefined);
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    return thread;
  }

  /** Waits for reply `id`; with a request, posts it first. */
  private call(id: number, request: Request | undefined): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (request) this.worker.postMessage({ ...request, id });
    });
  }

  private send(request: Request): Promise<unknown> {
    return this.call(this.nextId++, request);
  }

  query(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<QueryResult> {
    return this.send({ op: "query", sql, params, rowMode: options.rowMode ?? "object", tx: 0 }) as Promise<QueryResult>;
  }

  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const id = this.nextTx++;
    await this.send({ op: "begin", tx: id });
    const tx: Queryable = {
      query: (sql, params = [], options = {}) =>
        this.send({ op: "query", sql, params, rowMode: options.rowMode ?? "object", tx: id }) as Promise<QueryResult>,
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      await this.send({ op: "end", tx: id, commit: false });
      throw err;
    }
    await this.send({ op: "end", tx: id, commit: true });
    return result;
  }

  async dumpDataDir(): Promise<Blob> {
    const bytes = (await this.send({ op: "dump" })) as Uint8Array;
    return new Blob([bytes], { type: "application/x-tar" });
  }

  async close(): Promise<void> {
    if (!this.failure) await this.send({ op: "close" }).catch(() => {});
    await this.worker.terminate();
  }
}
