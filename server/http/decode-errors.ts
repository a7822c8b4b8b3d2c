// connect-node answers a binary request it cannot decode (a string that is not UTF-8, a message
// cut short, a malformed tag) with `internal`, from inside its handler, before any interceptor
// runs. The fault is the client's: this answers such calls with `invalid_argument` naming the
// field (decode-diagnosis.ts), in the protocol the client spoke. The request's chunks are kept
// (by reference) until the call ends; only a failed call is decoded a second time.
import { promisify } from "node:util";
import zlib from "node:zlib";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { diagnoseDecode } from "./decode-diagnosis.js";

/** Wraps every handler the router holds (call after registering the services). */
export function answerDecodeErrors(router: ConnectRouter): void {
  router.handlers.forEach((h, i) => {
    router.handlers[i] = wrap(h);
  });
}

function wrap(h: UniversalHandler): UniversalHandler {
  // Requests of one message only: a client stream could be long, and its chunks are not kept.
  const single = h.method.methodKind === "unary" || h.method.methodKind === "server_streaming";
  const fn = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const body = req.body;
    if (!single || typeof body !== "object" || body === null || !(Symbol.asyncIterator in body)) return h(req);
    const chunks: Uint8Array[] = [];
    const res = await h({ ...req, body: keep(body as AsyncIterable<Uint8Array>, chunks) });
    const why = () => diagnose(h, req, chunks);
    const contentType = res.header?.get("content-type") ?? "";
    // Connect unary: the request was decoded before the answer was made.
    if (res.status === 500 && contentType.startsWith("application/json") && !res.header?.get("content-encoding")) {
      const reason = await why();
      if (!reason) return res;
      const json = errorToJsonBytes(new ConnectError(reason, Code.InvalidArgument), {});
      res.header?.set("content-length", String(json.byteLength));
      return { ...res, status: 400, body: oneChunk(json) };
    }
    if (!res.body || !(Symbol.asyncIterator in res.body)) return res;
    // gRPC and gRPC-Web: the request is decoded while the answer is written.
    return { ...res, body: fixStatusAtEnd(res, why, contentType.startsWith("application/grpc-web")) };
  };
  return Object.assign(fn, h);
}

async function* keep(body: AsyncIterable<Uint8Array>, chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    chunks.push(chunk);
    yield chunk;
  }
}

/**
 * Passes the response on chunk by chunk (a stream's events are never held back), fixing the
 * status it ends with: gRPC's trailer, or gRPC-Web's trailer frame.
 */
async function* fixStatusAtEnd(
  res: UniversalServerResponse,
  why: () => Promise<string | undefined>,
  grpcWeb: boolean,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    yield grpcWeb && chunk[0] === trailerFlag ? await fixGrpcWebTrailer(chunk, why) : chunk;
  }
  if (!grpcWeb && res.trailer?.get("grpc-status") === String(Code.Internal)) {
    const reason = await why();
    if (reason) setTrailerStatus(res.trailer, new ConnectError(reason, Code.InvalidArgument));
  }
}

const gunzip = promisify(zlib.gunzip);
const brotli = promisify(zlib.brotliDecompress);

async function decompress(bytes: Uint8Array, encoding: string | null): Promise<Uint8Array | undefined> {
  if (!encoding || encoding === "identity") return bytes;
  if (encoding === "gzip") return gunzip(bytes);
  if (encoding === "br") return brotli(bytes);
  return undefined;
}

/** Why the request's message does not decode, from the chunks read; undefined if it does (or is not binary). */
async function diagnose(h: UniversalHandler, req: UniversalServerRequest, chunks: Uint8Array[]): Promise<string | undefined> {
  const type = req.header.get("content-type") ?? "";
  const all = Buffer.concat(chunks);
  try {
    if (type === "application/proto") {
      const bytes = await decompress(all, req.header.get("content-encoding"));
      return bytes && diagnoseDecode(h.method.input, bytes);
    }
    if (/^application\/(grpc|grpc-web|connect)(\+proto)?$/.test(type) && all.byteLength >= 5) {
      // One enveloped message: flags, a 32-bit length, the message (compressed if flags & 1).
      const length = all.readUInt32BE(1);
      const message = all.subarray(5, 5 + length);
      const encoding = type.startsWith("application/connect")
        ? req.header.get("connect-content-encoding")
        : req.header.get("grpc-encoding");
      const bytes = (all[0]! & 1) === 1 ? await decompress(message, encoding) : message;
      return bytes && diagnoseDecode(h.method.input, bytes);
    }
  } catch {
    return undefined; // a body that does not even decompress is connect-node's own answer
  }
  return undefined;
}

/** The last gRPC-Web frame is the trailer: an `internal` there for an undecodable request is rewritten. */
async function fixGrpcWebTrailer(frame: Uint8Array, why: () => Promise<string | undefined>): Promise<Uint8Array> {
  if (frame.byteLength < 5 || frame[0] !== trailerFlag) return frame;
  const trailer = trailerParse(frame.subarray(5));
  if (trailer.get("grpc-status") !== String(Code.Internal)) return frame;
  const reason = await why();
  if (!reason) return frame;
  setTrailerStatus(trailer, new ConnectError(reason, Code.InvalidArgument));
  const data = trailerSerialize(trailer);
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = trailerFlag;
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
