// Typed API clients and fixtures for server tests (real Connect over HTTP/1.1).
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
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
import { TEST_ADMIN_TOKEN } from "./server.js";

export interface Api {
  auth: Client<typeof AuthService>;
  invite: Client<typeof InviteService>;
  admin: Client<typeof AdminService>;
  device: Client<typeof DeviceService>;
  identity: Client<typeof IdentityService>;
  envelope: Client<typeof EnvelopeService>;
  channel: Client<typeof ChannelService>;
  message: Client<typeof MessageService>;
  readState: Client<typeof ReadStateService>;
  directory: Client<typeof DirectoryService>;
  presence: Client<typeof PresenceService>;
  event: Client<typeof EventService>;
  voice: Client<typeof VoiceService>;
}

export function apiFor(transport: Transport): Api {
  return {
    auth: createClient(AuthService, transport),
    invite: createClient(InviteService, transport),
    admin: createClient(AdminService, transport),
    device: createClient(DeviceService, transport),
    identity: createClient(IdentityService, transport),
    envelope: createClient(EnvelopeService, transport),
    channel: createClient(ChannelService, transport),
    message: createClient(MessageService, transport),
    readState: createClient(ReadStateService, transport),
    directory: createClient(DirectoryService, transport),
    presence: createClient(PresenceService, transport),
    event: createClient(EventService, transport),
    voice: createClient(VoiceService, transport),
  };
}

/** An API client sending the given headers (e.g. a bearer session or an admin token). */
export function api(url: string, headers: Record<string, string> = {}): Api {
  const add: Interceptor = (next) => (req) => {
    for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
    return next(req);
  };
  return apiFor(createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors: [add] }));
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const adminApi = (url: string) => api(url, { "x-admin-token": TEST_ADMIN_TOKEN });

/** A fresh X25519 public key, base64 of the 32 raw bytes. */
export function devicePublicKey(): string {
  const { publicKey } = generateKeyPairSync("x25519");
  return publicKey.export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
}

/** Bytes shaped like a sealed field (version 1, epoch 1): the server cannot tell them apart. */
export function sealedValue(plainLength = 16): string {
  const header = Buffer.from([1, 0, 0, 0, 1]);
  return Buffer.concat([header, randomBytes(12 + plainLength + 16)]).toString("base64");
}

/** Bytes shaped like a key envelope (version 1, 93 bytes). */
export function envelopeValue(): string {
  return Buffer.concat([Buffer.from([1]), randomBytes(92)]).toString("base64");
}

export async function mintInvite(url: string, init: { maxUses?: number; lifetimeSeconds?: number } = {}): Promise<string> {
  return (await adminApi(url).invite.createInvite(init)).token;
}

export interface TestUser {
  username: string;
  token: string;
  userId: string;
  deviceId: string;
  publicKey: string;
  isAdmin: boolean;
  api: Api;
}

export async function registerUser(url: string, username = `user-${randomUUID().slice(0, 8)}`, invite?: string): Promise<TestUser> {
  const publicKey = devicePublicKey();
  const res = await api(url).auth.register({
    username,
    password: "correct horse battery",
    inviteToken: invite ?? (await mintInvite(url)),
    devicePublicKey: publicKey,
  });
  const s = res.session!;
  return {
    username,
    token: s.token,
    userId: s.userId,
    deviceId: s.deviceId,
    publicKey,
    isAdmin: s.isAdmin,
    api: api(url, bearer(s.token)),
  };
}
