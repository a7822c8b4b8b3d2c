// Answers for requests connect-node does not route, in the caller's protocol: an unknown method
// is UNIMPLEMENTED (gRPC and gRPC-Web: HTTP 200 with grpc-status 12; Connect: 404 with a JSON
// error body), not a bare HTTP 404 a gRPC client reports as a transport failure; a known method
// called with a content type no protocol serves gets a 415 that says which ones are served.
import http2 from "node:http2";
import type { NodeHandler } from "./listener.js";

type Req = Parameters<NodeHandler>[0];
type Res = Parameters<NodeHandler>[1];

/** What the three protocols accept, unary and streaming (Connect streams use connect+). */
export const SERVED_CONTENT_TYPES = [
  "application/json",
  "application/proto",
  "application/connect+json",
  "application/connect+proto",
  "application/grpc",
  "application/grpc+proto",
  "application/grpc+json",
  "application/grpc-web",
  "application/grpc-web+proto",
  "application/grpc-web+json",
  "application/grpc-web-text",
] as const;

const GRPC = /^application\/grpc(-web(-text)?)?([+;]|$)/i;
const CONNECT = /^application\/(connect\+)?(json|proto)([;]|$)/i;

function baseType(req: Req): string {
  return (req.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase();
}

/** The fallback for paths no route serves. */
export function unrouted(req: Req, res: Res): void {
  const path = (req.url ?? "").split("?", 1)[0]!;
  const type = baseType(req);
  const message = `method not found: ${path}`;
  if (req.method === "POST" && GRPC.test(type)) {
    const headers = { "content-type": type, "grpc-status": "12", "grpc-message": encodeURIComponent(message) };
    // gRPC's trailers-only response: one HEADERS frame that ends the stream.
    if (req instanceof http2.Http2ServerRequest) req.stream.respond({ ":status": 200, ...headers }, { endStream: true });
    else {
      res.writeHead(200, headers);
      res.end();
    }
    return;
  }
  if (req.method === "POST" && CONNECT.test(type)) {
    const body = JSON.stringify({ code: "unimplemented", message });
    res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const body = "not found\n";
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** In front of connect-node: a routed method called with a content type nobody serves gets a 415 that names them. */
export function withContentTypeCheck(paths: ReadonlySet<string>, next: NodeHandler): NodeHandler {
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0]!;
    const type = baseType(req);
    // An empty type is left to connect-node, which picks the only protocol a method allows.
    if (req.method === "POST" && paths.has(path) && type !== "" && !GRPC.test(type) && !CONNECT.test(type)) {
      const body = `unsupported content type ${JSON.stringify(type)}: ${path} is served as ${SERVED_CONTENT_TYPES.join(", ")}\n`;
      res.writeHead(415, {
        "content-type": "text/plain; charset=utf-8",
        "content-length": Buffer.byteLength(body),
        "accept-post": SERVED_CONTENT_TYPES.join(", "),
      });
      res.end(body);
      return;
    }
    next(req, res);
  };
}
