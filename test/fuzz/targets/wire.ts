// Readers of bytes that arrive from outside beyond the RPC decoders: the Subscribe fast path's
// Connect envelope reader (server/services/event/request.ts), and the voice daemon's signal
// parser (what another member's daemon sends, after unsealing) and ICE configuration (what the
// server hands out).
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import type { Req } from "../../../server/services/event/request.js";
import { readRequest } from "../../../server/services/event/request.js";
import { IceConfigError, resolveIceConfig } from "../../../voiced/rtc/ice-config.js";
import { parseSignal } from "../../../voiced/rtc/signal.js";
import { concat, mutatedBytes, mutatedText } from "../mutate.js";
import { defineTarget, expectRefusal, FuzzFinding, type FuzzTarget } from "../target.js";

const MAX = 1024;

/** The body split into chunks as a socket might deliver it. */
function asRequest(body: Uint8Array, cuts: number[]): Req {
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let at = 0;
  for (const p of [...points, body.length]) {
    if (p > at) chunks.push(Buffer.from(body.subarray(at, p)));
    at = Math.max(at, p);
  }
  return {
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  } as unknown as Req;
}

export async function wireTargets(): Promise<FuzzTarget[]> {
  const envelope = (payload: Uint8Array) => {
    const head = new Uint8Array(5);
    new DataView(head.buffer).setUint32(1, payload.length);
    return concat(head, payload);
  };
  const proto = envelope(Uint8Array.from([8, 42])); // after_seq = 42
  const json = envelope(new TextEncoder().encode('{"afterSeq":"42"}'));
  const signal = JSON.stringify({
    t: "candidate",
    sid: "0123456789abcdef",
    c: { candidate: "candidate:1 1 udp 1 10.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0 },
  });
  return [
    defineTarget({
      name: "subscribe-request",
      about: "the Subscribe fast path's Connect envelope reader, on mutated envelopes cut into chunks",
      input: fc.record({
        codec: fc.constantFrom("proto" as const, "json" as const),
        body: fc.oneof(mutatedBytes(proto), mutatedBytes(json), fc.uint8Array({ maxLength: MAX + 16 })),
        cuts: fc.array(fc.nat(), { maxLength: 4 }),
      }),
      async check({ codec, body, cuts }) {
        try {
          const req = await readRequest(asRequest(body, cuts), codec, MAX);
          if (req.afterSeq !== undefined && typeof req.afterSeq !== "bigint") throw new FuzzFinding("after_seq is not a bigint");
        } catch (err) {
          if (err instanceof FuzzFinding) throw err;
          expectRefusal(err, [ConnectError], "readRequest");
          const code = (err as ConnectError).code;
          if (code !== Code.InvalidArgument && code !== Code.ResourceExhausted)
            throw new FuzzFinding(`readRequest refused with ${Code[code]}`);
        }
      },
    }),
    defineTarget({
      name: "voice-signal",
      about: "the voice daemon's parser of signals from other daemons, on mutated and arbitrary JSON",
      input: fc.oneof(mutatedText(signal), fc.json({ maxDepth: 3 }), mutatedText('{"t":"ready","sid":"0123456789abcdef","ka":300}')),
      check(text) {
        try {
          const s = parseSignal(text);
          if (typeof s.sid !== "string" || s.sid.length < 8 || s.sid.length > 64)
            throw new FuzzFinding(`parseSignal accepted a bad sid: ${text}`);
        } catch (err) {
          if (err instanceof FuzzFinding) throw err;
          // Its refusals are Error and JSON's SyntaxError; a TypeError means it read a field of a non-object.
          if (!(err instanceof Error) || err.name === "TypeError" || err.name === "RangeError") {
            throw new FuzzFinding(
              `parseSignal(${JSON.stringify(text)}) failed with ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
            );
          }
        }
      },
    }),
    defineTarget({
      name: "ice-config",
      about: "the voice daemon's ICE configuration from the server (any URLs, credentials, relay-only)",
      input: fc.record({
        servers: fc.array(
          fc.record({
            urls: fc.array(
              fc.oneof(
                mutatedText("turn:turn.example.org:3478?transport=udp"),
                mutatedText("stun:[2001:db8::1]:3478"),
                fc.string({ maxLength: 40 }),
              ),
              { maxLength: 4 },
            ),
            username: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
            credential: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
          }),
          { maxLength: 4 },
        ),
        relayOnly: fc.boolean(),
      }),
      check({ servers, relayOnly }) {
        try {
          const c = resolveIceConfig(servers, relayOnly);
          if (relayOnly && !c.turn) throw new FuzzFinding("relay-only accepted without TURN");
          for (const s of c.servers)
            for (const u of s.urls) if (!/^(stuns?|turns?):/i.test(u)) throw new FuzzFinding(`kept a URL that is not ICE: ${u}`);
        } catch (err) {
          if (err instanceof FuzzFinding) throw err;
          expectRefusal(err, [IceConfigError], "resolveIceConfig");
        }
      },
    }),
  ];
}
