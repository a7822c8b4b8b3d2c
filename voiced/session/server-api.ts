// The daemon's own Connect client to the Dialtone server, authenticated with the session
// token handed over in Join (a bearer header; the token never reaches argv or the log).
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "../../gen/dialtone/v1/auth_service_pb.js";
import { EventService } from "../../gen/dialtone/v1/event_service_pb.js";
import { VoiceService } from "../../gen/dialtone/v1/voice_service_pb.js";

export interface ServerApi {
  auth: Client<typeof AuthService>;
  event: Client<typeof EventService>;
  voice: Client<typeof VoiceService>;
}

export function serverApi(baseUrl: string, token: string): ServerApi {
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  // HTTP/1.1 as the CLI: the feed is a plain chunked response through any proxy.
  const unary = createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [bearer], defaultTimeoutMs: 15_000 });
  const stream = createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [bearer] });
  return {
    auth: createClient(AuthService, unary),
    voice: createClient(VoiceService, unary),
    event: createClient(EventService, stream),
  };
}
