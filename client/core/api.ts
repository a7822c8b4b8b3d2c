// Typed Connect clients for every public service, over HTTP/1.1 (works through plain proxies
// and keeps the event stream a simple chunked response). Every rejection is an ApiError.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AdminService } from "../../gen/dialtone/v1/admin_service_pb.js";
import { AuthService } from "../../gen/dialtone/v1/auth_service_pb.js";
import { ChannelService } from "../../gen/dialtone/v1/channel_service_pb.js";
import { DeviceService } from "../../gen/dialtone/v1/device_service_pb.js";
import { DirectoryService } from "../../gen/dialtone/v1/directory_service_pb.js";
import { EnvelopeService } from "../../gen/dialtone/v1/envelope_service_pb.js";
import { EventService } from "../../gen/dialtone/v1/event_service_pb.js";
import { IdentityService } from "../../gen/dialtone/v1/identity_service_pb.js";
import { InviteService } from "../../gen/dialtone/v1/invite_service_pb.js";
import { MessageService } from "../../gen/dialtone/v1/message_service_pb.js";
import { PresenceService } from "../../gen/dialtone/v1/presence_service_pb.js";
import { ReadStateService } from "../../gen/dialtone/v1/read_state_service_pb.js";
import { VoiceService } from "../../gen/dialtone/v1/voice_service_pb.js";
import { toClientError } from "./connection-errors.js";

export interface Api {
  readonly auth: Client<typeof AuthService>;
  readonly invite: Client<typeof InviteService>;
  readonly device: Client<typeof DeviceService>;
  readonly envelope: Client<typeof EnvelopeService>;
  readonly channel: Client<typeof ChannelService>;
  readonly message: Client<typeof MessageService>;
  readonly readState: Client<typeof ReadStateService>;
  readonly directory: Client<typeof DirectoryService>;
  readonly presence: Client<typeof PresenceService>;
  readonly event: Client<typeof EventService>;
  readonly voice: Client<typeof VoiceService>;
  readonly admin: Client<typeof AdminService>;
  readonly identity: Client<typeof IdentityService>;
}

export interface ApiOptions {
  /** The server URL (its origin is what matters). */
  readonly baseUrl: string;
  /** The bearer token to send, read at every call (so a login can install it later). */
  readonly token?: () => string | undefined;
  /** Deadline of unary calls; streams pass `timeoutMs: 0` to have none. Default 20 s. */
  readonly timeoutMs?: number;
}

async function* mapErrors<T>(iterable: AsyncIterable<T>, url: string): AsyncGenerator<T> {
  try {
    yield* iterable;
  } catch (err) {
    throw toClientError(err, url);
  }
}

/**
 * Wraps a generated client so promise rejections and stream errors become ApiErrors, or
 * ConnectionErrors when the call never reached a Dialtone server at `url`.
 */
function withApiErrors<T extends object>(client: T, url: string): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (result instanceof Promise) return result.catch((err: unknown) => Promise.reject(toClientError(err, url)));
        if (result !== null && typeof result === "object" && Symbol.asyncIterator in result) {
          return mapErrors(result as AsyncIterable<unknown>, url);
        }
        return result;
      };
    },
  });
}

export function createApi(options: ApiOptions): Api {
  const bearer: Interceptor = (next) => (req) => {
    const token = options.token?.();
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createConnectTransport({
    baseUrl: options.baseUrl,
    httpVersion: "1.1",
    interceptors: [bearer],
    defaultTimeoutMs: options.timeoutMs ?? 20_000,
  });
  const make = <S extends DescService>(service: S): Client<S> => withApiErrors(createClient(service, transport), options.baseUrl);
  return {
    auth: make(AuthService),
    invite: make(InviteService),
    device: make(DeviceService),
    envelope: make(EnvelopeService),
    channel: make(ChannelService),
    message: make(MessageService),
    readState: make(ReadStateService),
    directory: make(DirectoryService),
    presence: make(PresenceService),
    event: make(EventService),
    voice: make(VoiceService),
    admin: make(AdminService),
    identity: make(IdentityService),
  };
}
