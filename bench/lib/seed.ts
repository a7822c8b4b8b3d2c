// Bench fixtures, written straight into a migrated database before the server starts:
// accounts (user + device + session each: registering through the API would spend ~100 ms
// of scrypt per account), one channel, and a long channel history (COPY on PostgreSQL).
// Tokens are stored as the server stores them (SHA-256), so the bench can authenticate.
import { randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { hashToken, newToken } from "../../server/domain/tokens.js";
import type { DbTarget } from "./dialtone.js";
import { sealedField } from "./payload.js";

export interface Fixtures {
  /** Bearer tokens, one per account; account 0 is an admin and owns the channel. */
  tokens: string[];
  userIds: string[];
  deviceIds: string[];
  channelId: string;
}

/** The few statements seeding needs, on either driver. */
interface Runner {
  query(text: string, params?: unknown[]): Promise<void>;
  /** Streams COPY text rows into `table (columns)`. */
  copy?(table: string, columns: string[], rows: AsyncIterable<string> | Iterable<string>): Promise<void>;
  close(): Promise<void>;
}

async function open(db: DbTarget): Promise<Runner> {
  if (db.kind === "postgres") {
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    return {
      query: async (text, params = []) => void (await sql.unsafe(text, params as never[])),
      copy: async (table, columns, rows) => {
        const sink = await sql.unsafe(`COPY ${table} (${columns.join(", ")}) FROM STDIN`).writable();
        await pipeline(Readable.from(rows), sink);
      },
      close: () => sql.end({ timeout: 5 }),
    };
  }
  const pg = await PGlite.create({ dataDir: `${db.dataDir}/pgdata` });
  return { query: async (text, params) => void (await pg.query(text, params)), close: () => pg.close() };
}

export async function seed(
  db: DbTarget,
  o: { accounts: number; historyMessages?: number },
): Promise<Fixtures & { seedS: { accounts: number; history: number } }> {
  const r = await open(db);
  try {
    const t0 = performance.now();
    const tokens: string[] = [];
    const userIds: string[] = [];
    const deviceIds: string[] = [];
    for (let start = 0; start < o.accounts; start += 5000) {
      const n = Math.min(5000, o.accounts - start);
      const u: string[] = [],
        h: string[] = [],
        d: string[] = [],
        k: string[] = [],
        t: string[] = [];
      for (let i = 0; i < n; i++) {
        const token = newToken();
        tokens.push(token);
        u.push(randomUUID());
        d.push(randomUUID());
        h.push(randomBytes(32).toString("hex"));
        k.push(randomBytes(32).toString("base64"));
        t.push(hashToken(token));
      }
      userIds.push(...u);
      deviceIds.push(...d);
      await r.query(
        `INSERT INTO users (id, username_hash, password_hash, is_admin, created_at)
         SELECT u, h, 'bench: no password', (u = $3::uuid), now() FROM unnest($1::uuid[], $2::text[]) AS x(u, h)`,
        [u, h, userIds[0]],
      );
      await r.query(
        `INSERT INTO devices (id, user_id, public_key, created_at, last_seen_at)
         SELECT d, u, k, now(), now() FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS x(d, u, k)`,
        [d, u, k],
      );
      await r.query(
        `INSERT INTO sessions (token_hash, user_id, device_id, created_at, last_used_at, expires_at)
         SELECT t, u, d, now(), now(), now() + interval '30 days' FROM unnest($1::text[], $2::uuid[], $3::uuid[]) AS x(t, u, d)`,
        [t, u, d],
      );
    }
    const channelId = randomUUID();
    await r.query(
      `INSERT INTO channels (id, encrypted_name, created_by_user_id, created_at, updated_at, key_epoch) VALUES ($1, $2, $3, now(), now(), 1)`,
      [channelId, sealedField(40), userIds[0] ?? null],
    );
    const accountsS = (performance.now() - t0) / 1000;

    // History: seqs 1..N in one channel. ListMessages reads only the messages table, so no
    // events rows; event_head moves past N so later sends never reuse a seq. Ids ascend (a
    // random prefix + the seq), so the primary-key index fills in order.
    const t1 = performance.now();
    const n = o.historyMessages ?? 0;
    if (n) {
      const prefix = randomUUID().slice(0, 18);
      const body = sealedField(300);
      const name = sealedField(49);
      const [user, device] = [userIds[0]!, deviceIds[0]!];
      const columns = [
        "id",
        "channel_id",
        "sender_user_id",
        "sender_device_id",
        "encrypted_body",
        "encrypted_sender_name",
        "key_epoch",
        "seq",
        "created_at",
      ];
      if (r.copy) {
        const base = Date.now() - n * 1000;
        const rows = function* () {
          const CHUNK = 2000;
          for (let s = 1; s <= n; s += CHUNK) {
            let chunk = "";
            for (let seq = s; seq < s + CHUNK && seq <= n; seq++) {
              const id = `${prefix}${seq.toString(16).padStart(16, "0")}`;
              chunk += `${id}\t${channelId}\t${user}\t${device}\t${body}\t${name}\t1\t${seq}\t${new Date(base + seq * 1000).toISOString()}\n`;
            }
            yield chunk;
          }
        };
        await r.copy("messages", columns, rows());
      } else {
        // PGlite has no COPY FROM STDIN over this API: the same rows, generated in the engine.
        await r.query(
          `INSERT INTO messages (${columns.join(", ")})
           SELECT ($1 || lpad(to_hex(g), 16, '0'))::uuid, $2::uuid, $3::uuid, $4::uuid, $5, $6, 1, g, now() - make_interval(secs => $7::bigint - g)
           FROM generate_series(1, $7::bigint) AS g`,
          [prefix, channelId, user, device, body, name, n],
        );
      }
      await r.query(`UPDATE event_head SET seq = GREATEST(seq, $1::bigint) WHERE id = 1`, [n]);
      await r.query(`VACUUM ANALYZE messages`);
    }
    return { tokens, userIds, deviceIds, channelId, seedS: { accounts: accountsS, history: (performance.now() - t1) / 1000 } };
  } finally {
    await r.close();
  }
}
