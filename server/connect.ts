// The routes: every service of the public API, each a thin handler over the domain.
import type { ConnectRouter } from "@connectrpc/connect";
import { AdminService } from "../gen/dialtone/v1/admin_service_pb.js";
import { AuthService } from "../gen/dialtone/v1/auth_service_pb.js";
import { ChannelService } from "../gen/dialtone/v1/channel_service_pb.js";
import { DeviceService } from "../gen/dialtone/v1/device_service_pb.js";
import { DirectoryService } from "../gen/dialtone/v1/directory_service_pb.js";
import { EnvelopeService } from "../gen/dialtone/v1/envelope_service_pb.js";
import { EventService } from "../gen/dialtone/v1/event_service_pb.js";
import { IdentityService } from "../gen/dialtone/v1/identity_service_pb.js";
import { InviteService } from "../gen/dialtone/v1/invite_service_pb.js";
import { MessageService } from "../gen/dialtone/v1/message_service_pb.js";
import { PresenceService } from "../gen/dialtone/v1/presence_service_pb.js";
import { ReadStateService } from "../gen/dialtone/v1/read_state_service_pb.js";
import { VoiceService } from "../gen/dialtone/v1/voice_service_pb.js";
import type { Deps } from "./domain/deps.js";
import { UNAUTHENTICATED_READ_MAX_BYTES } from "./http/gate.js";
import { adminService } from "./services/admin.js";
import { authService } from "./services/auth.js";
import { channelService } from "./services/channel.js";
import { deviceService } from "./services/device.js";
import { directoryService, presenceService } from "./services/directory.js";
import { envelopeService } from "./services/envelope.js";
import { eventService } from "./services/event/service.js";
import { identityService } from "./services/identity.js";
import { inviteService } from "./services/invite.js";
import { messageService } from "./services/message.js";
import { readStateService } from "./services/read-state.js";
import { REFLECTION_SERVICES, reflectionServices } from "./services/reflection.js";
import { voiceService } from "./services/voice.js";
import { SchemaIndex } from "./domain/schema-index.js";

/** Every service of the public API (the 415 check and the fuzzers list their methods from it). */
export const SERVICES = [
  AuthService,
  InviteService,
  AdminService,
  DeviceService,
  IdentityService,
  EnvelopeService,
  ChannelService,
  MessageService,
  ReadStateService,
  DirectoryService,
  PresenceService,
  EventService,
  VoiceService,
] as const;

/** The request path of every method served (reflection's too): /package.Service/Method. */
export const RPC_PATHS: ReadonlySet<string> = new Set(
  [...SERVICES, ...REFLECTION_SERVICES].flatMap((s) => s.methods.map((m) => `/${s.typeName}/${m.name}`)),
);

/** Calls made without a session read at most this much (UNAUTHENTICATED_READ_MAX_BYTES). */
const small = { readMaxBytes: UNAUTHENTICATED_READ_MAX_BYTES };

export const routes = (deps: Deps) => (router: ConnectRouter) => {
  const auth = authService(deps);
  const identity = identityService(deps);
  const reflection = reflectionServices(new SchemaIndex([...SERVICES, ...REFLECTION_SERVICES]));
  return router
    .service(AuthService, auth)
    .rpc(AuthService.method.register, auth.register, small)
    .rpc(AuthService.method.login, auth.login, small)
    .service(InviteService, inviteService(deps))
    .service(AdminService, adminService(deps))
    .service(DeviceService, deviceService(deps))
    .service(IdentityService, identity)
    .rpc(IdentityService.method.getRoot, identity.getRoot, small)
    .service(EnvelopeService, envelopeService(deps))
    .service(ChannelService, channelService(deps))
    .service(MessageService, messageService(deps))
    .service(ReadStateService, readStateService(deps))
    .service(DirectoryService, directoryService(deps))
    .service(PresenceService, presenceService(deps))
    .service(EventService, eventService(deps))
    .service(VoiceService, voiceService(deps))
    .service(REFLECTION_SERVICES[0], reflection.v1, small)
    .service(REFLECTION_SERVICES[1], reflection.v1alpha, small);
};
