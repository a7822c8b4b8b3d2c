// The Connect protocol's envelope: one flags byte, a big-endian 32-bit length, the data. Our own
// Subscribe serving writes it (server/services/event/frames.ts), and so does the bench's lean client.

/** Frames `data` as one Connect envelope. */
export function envelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + data.byteLength);
  out[0] = flags;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}
