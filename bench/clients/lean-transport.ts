// A lean client Transport for the bench's subscriber processes: server streams over the
// Connect protocol (binary), on one h2c session or a socket per stream (HTTP/1.1), handed to createClient() like any
// transport, so the load generator still calls EventService.Subscribe through the generated
// stubs and decodes every SubscribeResponse with the generated schema.
//
// Why not connect-node's transport: its client pipeline (down-levelled async generators)
// spends about twice the CPU per received message of a raw ws client decoding the same
// bytes. On a 2-core box shared with the server under test, that made the load generators,
// not the servers, the bottleneck of a 1,000-subscriber fan-out, and an unequal one.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethodStreaming,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type StreamResponse, type Transport } from "@connectrpc/connect";
import { EnvelopeReader, endStreamError, envelope } from "../../server/http/envelope.js";

export interface LeanTransportOptions {
  host: string;
  port: number;
  localAddress?: string;
  /** "2": streams share one h2c session (default); "1.1": a socket per stream, as the dialtone CLI. */
  http?: "2" | "1.1";
}

/** Decodes a Connect stream's messages; throws the end-stream's error. */
async function* messages<O extends DescMessage>(schema: O, body: AsyncIterable<Buffer>): AsyncGenerator<MessageShape<O>> {
  const reader = new EnvelopeReader();
  for await (const chunk of body) {
    const got: { flags: number; data: Buffer }[] = [];
    reader.push(chunk, (flags, data) => got.push({ flags, data }));
    for (const { flags, data } of got) {
      if (flags === 0) {
        yield fromBinary(schema, data);
        continue;
      }
      const err = endStreamError(data);
      if (err) throw err;
      return;
    }
  }
  throw new ConnectError("stream ended without an end-stream message", Code.Unavailable);
}

export function leanTransport(o: LeanTransportOptions): Transport {
  let session: http2.ClientHttp2Session | undefined;
  const connect = () => {
    if (session && !session.closed && !session.destroyed) return session;
    const s = http2.connect(`http://${o.host}:${o.port}`, {
      createConnection: () => net.connect({ host: o.host, port: o.port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) }),
    });
    s.on("error", () => {});
    return (session = s);
  };
  return {
    unary() {
      throw new ConnectError("lean transport: server streams only", Code.Unimplemented);
    },
    async stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      _timeoutMs: number | undefined,
      header: ConstructorParameters<typeof Headers>[0],
      input: AsyncIterable<MessageInitShape<I>>,
    ): Promise<StreamResponse<I, O>> {
      let request: MessageInitShape<I> | undefined;
      for await (const m of input) request = m;
      const headers: http2.OutgoingHttpHeaders = {
        ":method": "POST",
        ":path": `/${method.parent.typeName}/${method.name}`,
        "content-type": "application/connect+proto",
        "connect-protocol-version": "1",
      };
      new Headers(header).forEach((v, k) => (headers[k] = v));
      const body0 = envelope(0, toBinary(method.input, create(method.input, request)));
      let stream: AsyncIterable<Buffer>;
      let abort: () => void;
      let status: number;
      if (o.http === "1.1") {
        const { ":method": _m, ":path": path, ...rest } = headers;
        const req = http.request({
          host: o.host,
          port: o.port,
          method: "POST",
          path: path as string,
          headers: rest,
          agent: false,
          ...(o.localAddress ? { localAddress: o.localAddress } : {}),
        });
        req.end(body0);
        abort = () => req.destroy();
        const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
          req.once("response", resolve);
          req.once("error", (err) => reject(signal?.aborted ? new ConnectError("canceled", Code.Canceled) : err));
        });
        status = res.statusCode ?? 0;
        stream = res;
      } else {
        const h2 = connect().request(headers);
        h2.end(body0);
        abort = () => h2.close(http2.constants.NGHTTP2_CANCEL);
        status = await new Promise<number>((resolve, reject) => {
          h2.once("response", (h) => resolve(Number(h[":status"])));
          h2.once("error", reject);
          h2.once("close", () =>
            reject(new ConnectError("stream closed before its response", signal?.aborted ? Code.Canceled : Code.Unavailable)),
          );
        });
        stream = h2 as AsyncIterable<Buffer>;
      }
      if (signal?.aborted) abort();
      signal?.addEventListener("abort", abort, { once: true });
      if (status !== 200) throw new ConnectError(`HTTP ${status}`, Code.Unknown);
      const body = (async function* () {
        try {
          yield* messages(method.output, stream);
        } catch (err) {
          throw signal?.aborted ? new ConnectError("canceled", Code.Canceled) : err;
        } finally {
          signal?.removeEventListener("abort", abort);
        }
      })();
      return { stream: true, service: method.parent, method, header: new Headers(), trailer: new Headers(), message: body };
    },
  };
}
