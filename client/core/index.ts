// client/core: the client library shared by the CLI, the terminal UI and the voice daemon.
// No terminal, no process globals: everything comes in through arguments.
export { listAccounts, resolveAccount, resolveAccountDevice, type Account } from "./accounts.js";
export { createApi, type Api, type ApiOptions } from "./api.js";
export { ChannelBook, checkName, sealChannelName } from "./channels.js";
export { DialtoneClient, type StartOptions } from "./client.js";
export type { ClientEvents, DeviceView, VoiceEvent } from "./events.js";
export type { WhoAmI } from "./devices.js";
export type { InviteOptions, MintedInvite } from "./invites.js";
export type { PresenceView, VoiceRoomView } from "./presence.js";
export {
  ONE_SHOT_ATTEMPTS,
  Outbox,
  OutboxClosed,
  SEND_RULES,
  type OutboxDeps,
  type OutboxEntry,
  type OutboxRules,
  type OutboxUpdate,
  type SealedMessage,
  type SendOptions,
} from "./outbox.js";
export { History, Timeline } from "./history.js";
export { coalesce } from "./coalesce.js";
export { Emitter, type Listener } from "./emitter.js";
export {
  ApiError,
  KeyError,
  SessionError,
  UsageError,
  isWrongCredentials,
  toApiError,
  type ApiErrorCode,
  type KeyErrorCode,
  type SessionErrorCode,
  type UsageErrorCode,
} from "./errors.js";
export { ConnectionError, connectionProblemText, type ConnectionProblem } from "./connection-errors.js";
export {
  DIRECTORY_SCOPE,
  KeyManager,
  keyOpensChannelName,
  newChannelKey,
  type DeviceCheck,
  type EnvelopeInit,
  type FetchReport,
  type KeyEvent,
  type KeyManagerDeps,
  type KeyScope,
} from "./keys.js";
export {
  CLOCK_SKEW_FLAG_MS,
  clockSkewMs,
  openMessage,
  sealMessage,
  type ChatMessage,
  type MessageDraft,
  type MessageIds,
  type MessageRelation,
  type RelationKind,
} from "./messages.js";
export { editsOf, firstLine, foldConversation, type ConversationEntry, type Reaction } from "./conversation.js";
export { findMentions, mentionedUserIds, type MentionSpan } from "./mentions.js";
export { mentionsMe, unreadCounts, type UnreadCounts } from "./unread.js";
export {
  Directory,
  ENCRYPTED_PLACEHOLDER,
  channelView,
  openName,
  resolveByNameOrId,
  shortId,
  userLabel,
  type ChannelView,
  type UserView,
} from "./names.js";
export {
  login,
  logout,
  register,
  requireSession,
  sessionApi,
  type Credentials,
  type ServerAccess,
  type SessionResult,
} from "./session.js";
export { readLastChannel, rememberLastChannel } from "./last-channel.js";
export { DEFAULT_UI_SETTINGS, parseUiSettings, readUiSettings, writeUiSettings, type UiSettings } from "./ui-settings.js";
export { MessageCache, type CachedMessage, type LoadReport, type SearchSink } from "./search/message-cache.js";
export { cacheEntry, type FillProgress, type SearchHit, type SearchView } from "./search/client-search.js";
export { recover, type RecoveryResult } from "./recovery.js";
export type { IdentityStatus } from "./identity.js";
export type { TrustEvent } from "./trust-book.js";
export { mayReceiveKeys, standingOf, type DeviceTrust, type Member, type TrustSnapshot, type UserStanding } from "./trust.js";
export { forgetServer, normaliseServerUrl, parseServerUrl, pickServer, readServers, rememberServer } from "./servers.js";
export { KeystoreStore, mergeKeystore, type MergeOptions, type MergeReport } from "./store.js";
export {
  DEFAULT_BACKOFF,
  DEFAULT_IDLE_LIMIT,
  SyncEngine,
  backoffDelay,
  type BackoffOptions,
  type ConnectionState,
  type FeedCursor,
  type HelloInfo,
  type SyncHandlers,
  type SyncOptions,
} from "./sync.js";
export * from "./views/index.js";
export { computeSafetyNumber, markVerified, type DeviceKeyView, type SafetyNumberResult, type VerifyDeps } from "./verify.js";
export {
  ensureDaemon,
  RoomStatus,
  SpeakingMode,
  VOICED_ENV,
  VoiceDaemon,
  VoiceDaemonError,
  voicedBinary,
  voicedSocketPath,
  type EnsureDaemonOptions,
  type IceServerInit,
  type Member as VoiceMember,
  type State as VoiceState,
  type VoiceDaemonErrorCode,
  type VoiceJoinOptions,
  type VoiceUpdate,
} from "./voice.js";
export {
  VOICE_FLAG_OPTIONS,
  VoiceSession,
  daemonArgs,
  defaultVoiceLog,
  flagIceServers,
  parseVoiceFlags,
  voiceLogFile,
  type PttBackendFlag,
  type VoiceFlags,
} from "./voice-session.js";
export {
  MAX_VOLUME_PERCENT,
  parseVolumePercent,
  readVoiceVolumes,
  rememberVoiceVolume,
  resolveVolumeUser,
} from "./voice-volumes.js";
