// Response compression for ciphertext: valid gzip/brotli that any decoder reads, the JSON gain
// kept, binary passed through, decompression bombs and garbage refused with clear codes; and a
// real server answering a history page in whichever encoding the client prefers.
import { randomBytes, randomUUID } from "node:crypto";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Database } from "../db/client.js";
import { registerUser, sealedValue } from "../../test/support/api.js";
import { databaseSource, type DatabaseSource } from "../../test/support/databases.js";
import { startTestServer, type TestServer } from "../../test/support/server.js";
import { brotliForCiphertext, gzipForCiphertext } from "./compression.js";

const json = Buffer.from(
  JSON.stringify({ messages: Array.from({ length: 100 }, () => ({ id: randomUUID(), body: randomBytes(300).toString("base64") })) }),
);
const binary = randomBytes(50_000);

describe.each([
  ["gzip", gzipForCiphertext, gunzipSync],
  ["br", brotliForCiphertext, brotliDecompressSync],
] as const)("%s", (_name, c, standardDecoder) => {
  test("any decoder reads it; base64 JSON shrinks by a fifth or more; random bytes grow by < 0.5 %", async () => {
    for (const input of [json, binary]) {
      const out = await c.compress(input);
      expect(Buffer.from(standardDecoder(out)).equals(input)).toBe(true);
      expect(Buffer.from(await c.decompress(out, 1 << 20)).equals(input)).toBe(true);
    }
    expect((await c.compress(json)).length).toBeLessThan(json.length * 0.8);
    expect((await c.compress(binary)).length).toBeLessThan(binary.length * 1.005);
  });

  test("a bomb is resource_exhausted, garbage invalid_argument, empty is empty", async () => {
    const bomb = await c.compress(Buffer.alloc(2 << 20));
    const err = await c.decompress(bomb, 1 << 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    const bad = await c.decompress(Buffer.from("not compressed at all, not even close"), 1 << 20).catch((e: unknown) => e);
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
    expect((await c.decompress(new Uint8Array(0), 10)).length).toBe(0);
  });
});

describe("a server", () => {
  let source: DatabaseSource;
  let db: Database;
  let server: TestServer;
  let token: string;
  const channelId = randomUUID();
  const emptyChannelId = randomUUID();

  beforeAll(async () => {
    source = await databaseSource("pglite");
    db = await source.fresh();
    server = await startTestServer(db);
    const admin = await registerUser(server.url);
    token = admin.token;
    await admin.api.channel.createChannel({ channelId, encryptedName: sealedValue() });
    await admin.api.channel.createChannel({ channelId: emptyChannelId, encryptedName: sealedValue() });
    for (let i = 0; i < 40; i++) {
      await admin.api.message.sendMessage({
        messageId: randomUUID(),
        channelId,
        encryptedBody: sealedValue(200),
        encryptedSenderName: sealedValue(),
        keyEpoch: 1,
      });
    }
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  test.each([
    ["br", "br"],
    ["gzip, br", "gzip"],
    ["br, gzip", "br"],
  ] as const)("Accept-Encoding %s: a history page comes back as %s and decodes", async (accept, expected) => {
    const res = await fetch(`${server.url}/dialtone.v1.MessageService/ListMessages`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "accept-encoding": accept },
      body: JSON.stringify({ channelId, limit: 40 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe(expected);
    // fetch (undici) decodes gzip and br itself: a page that parses was valid on the wire.
    const page = (await res.json()) as { messages: unknown[] };
    expect(page.messages).toHaveLength(40);
  });

  test("a page of an unknown channel is not_found; an existing channel with no messages is an empty page", async () => {
    const call = (id: string) =>
      fetch(`${server.url}/dialtone.v1.MessageService/ListMessages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ channelId: id }),
      });
    const missing = await call(randomUUID());
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe("not_found");
    const empty = await call(emptyChannelId);
    expect(empty.status).toBe(200);
    expect(((await empty.json()) as { messages?: unknown[] }).messages ?? []).toEqual([]);
  });
});
