// The Connect protocol's envelope: one flags byte, a big-endian 32-bit length, the data. Our own
// Subscribe serving writes it (server/services/event/frames.ts); the bench's lean clients and
// the fast path's tests write requests and read streams with it.
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";

/** Frames `data` as one Connect envelope. */
export function envelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + data.byteLength);
  out[0] = flags;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}

/** Splits a byte stream into envelopes, whatever the chunks' boundaries. */
export class EnvelopeReader {
  #held: Buffer | undefined;

  /** Takes the next chunk; calls `each` for every envelope it completes, in order. */
  push(chunk: Buffer, each: (flags: number, data: Buffer) => void): void {
    let buf = this.#held ? Buffer.concat([this.#held, chunk]) : chunk;
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const flags = buf[0]!;
      const data = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      each(flags, data);
    }
    this.#held = buf.length ? buf : undefined;
  }
}

/** Every whole envelope of a complete body (a trailing partial one is left out). */
export function envelopesOf(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  new EnvelopeReader().push(body, (flags, data) => out.push({ flags, data }));
  return out;
}

/** The error an end-stream message carries, if any. */
export function endStreamError(data: Buffer): ConnectError | undefined {
  const end = JSON.parse(data.toString("utf8") || "{}") as { error?: { code?: string; message?: string } };
  if (!end.error) return undefined;
  return new ConnectError(end.error.message ?? "", codeFromString(end.error.code ?? "") ?? Code.Unknown);
}
