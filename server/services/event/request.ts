// Which calls the fast path serves, and reading their one request message.
import { fromBinary, fromJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseContentType } from "@connectrpc/connect/protocol-connect";
import { SubscribeRequestSchema, type SubscribeRequest } from "../../../gen/dialtone/v1/event_service_pb.js";
import type { NodeHandler } from "../../http/listener.js";
import type { Codec } from "./frames.js";

export type Req = Parameters<NodeHandler>[0];

const PATH = "/dialtone.v1.EventService/Subscribe";

/**
 * The codec of a Connect-protocol Subscribe call the fast path serves, or undefined: gRPC,
 * gRPC-Web, compressed requests and requests with a deadline go on to connect-node.
 */
export function connectCodec(req: Req): Codec | undefined {
  if (req.method !== "POST" || (req.url !== PATH && !req.url?.startsWith(`${PATH}?`))) return undefined;
  const type = parseContentType(req.headers["content-type"] ?? null);
  if (!type?.stream) return undefined;
  const encoding = req.headers["connect-content-encoding"];
  if ((encoding !== undefined && encoding !== "identity") || req.headers["connect-timeout-ms"] !== undefined) return undefined;
  return type.binary ? "proto" : "json";
}

/** The call's one enveloped request message, checked as connect-node checks it. */
export async function readRequest(req: Req, codec: Codec, readMaxBytes: number): Promise<SubscribeRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > readMaxBytes + 5)
      throw new ConnectError(`message size is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  if (body.length < 5) throw new ConnectError("protocol error: missing input message for server-streaming method", Code.InvalidArgument);
  const flags = body[0]!;
  const len = body.readUInt32BE(1);
  if (flags !== 0) throw new ConnectError(`protocol error: unexpected envelope flags ${flags}`, Code.InvalidArgument);
  if (body.length !== 5 + len) {
    throw new ConnectError(
      `protocol error: ${body.length > 5 + len ? "received extra input message" : "promised more bytes"} for server-streaming method`,
      Code.InvalidArgument,
    );
  }
  const data = body.subarray(5);
  try {
    return codec === "proto" ? fromBinary(SubscribeRequestSchema, data) : fromJsonString(SubscribeRequestSchema, data.toString("utf8"));
  } catch (err) {
    throw ConnectError.from(err, Code.InvalidArgument);
  }
}
