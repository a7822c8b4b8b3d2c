// Response compression tuned for what this API returns: ciphertext. Sealed fields are random
// bytes (base64 in JSON), with no repeated strings for LZ77 to find; what compresses is base64's
// two spare bits per character. connect-node's defaults spend on nothing: gzip level 6 costs
// ~3 ms per 50 KB history page for no gain in binary, and brotli's default quality 11 ~300 ms
// (any client may ask for it: Accept-Encoding is the client's choice). Huffman-only gzip and
// quality-1 brotli keep most of the JSON gain at a third of the cost, and pass binary through.
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);
const brotliCompress = promisify(zlib.brotliCompress);
const brotliDecompress = promisify(zlib.brotliDecompress);

const GZIP_OPTIONS: zlib.ZlibOptions = { level: 1, strategy: zlib.constants.Z_HUFFMAN_ONLY };
const BROTLI_QUALITY = 1;

/** A Uint8Array over a plain ArrayBuffer, as Connect's types want. */
const plain = (b: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);

/** Decompression with a size limit: a bomb is resource_exhausted, garbage is invalid_argument. */
async function inflate(run: () => Promise<Buffer>, readMaxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return plain(await run());
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new ConnectError(`message is larger than ${readMaxBytes} bytes after decompression`, Code.ResourceExhausted);
    }
    throw new ConnectError("decompression failed", Code.InvalidArgument);
  }
}

export const gzipForCiphertext: Compression = {
  name: "gzip",
  compress: async (bytes) => plain(await gzip(bytes, GZIP_OPTIONS)),
  decompress: (bytes, readMaxBytes) =>
    bytes.length === 0 ? Promise.resolve(new Uint8Array(0)) : inflate(() => gunzip(bytes, { maxOutputLength: readMaxBytes }), readMaxBytes),
};

export const brotliForCiphertext: Compression = {
  name: "br",
  compress: async (bytes) =>
    plain(
      await brotliCompress(bytes, {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
      }),
    ),
  decompress: (bytes, readMaxBytes) =>
    bytes.length === 0
      ? Promise.resolve(new Uint8Array(0))
      : inflate(() => brotliDecompress(bytes, { maxOutputLength: readMaxBytes }), readMaxBytes),
};

/** What the server accepts and answers with; the client's order of preference decides. */
export const COMPRESSIONS: Compression[] = [gzipForCiphertext, brotliForCiphertext];
