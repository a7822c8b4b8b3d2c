// The whole database schema. drizzle-kit turns changes here into SQL migrations
// under ./migrations (`npm run db:generate`); they are committed and applied at start-up.
// Nothing here stores a plaintext username, token or key: names are HMACs, tokens SHA-256.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (v) => new Uint8Array(v),
});

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey(),
    // hex HMAC-SHA256(pepper, normalised username)
    usernameHash: text("username_hash").notNull(),
    // PHC-style scrypt string
    passwordHash: text("password_hash").notNull(),
    isAdmin: boolean("is_admin").notNull().default(false),
    createdAt: ts("created_at").notNull().defaultNow(),
    // Set when an admin removed the account: a tombstone that keeps its messages'
    // sender; username_hash then holds "removed:<id>" so the name is free again.
    removedAt: ts("removed_at"),
    // The invite the account registered with (the admission request names it). No foreign key:
    // invites are never deleted, and an account outlives the use of its invite.
    inviteId: uuid("invite_id"),
  },
  (t) => [uniqueIndex("users_username_hash_idx").on(t.usernameHash)],
);

export const devices = pgTable(
  "devices",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    publicKey: text("public_key").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    lastSeenAt: ts("last_seen_at"),
    revokedAt: ts("revoked_at"),
    // `device-cert|…` signed by the account's identity key (null: unverified, not approved yet)
    certificate: text("certificate"),
    // `device-revoked|…` signed by the account's identity key, when the owner signed the revocation
    revocation: text("revocation"),
  },
  (t) => [uniqueIndex("devices_user_key_idx").on(t.userId, t.publicKey)],
);

export const sessions = pgTable(
  "sessions",
  {
    // hex SHA-256 of the bearer token
    tokenHash: text("token_hash").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    deviceId: uuid("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    createdAt: ts("created_at").notNull().defaultNow(),
    lastUsedAt: ts("last_used_at").notNull().defaultNow(),
    expiresAt: ts("expires_at").notNull(),
  },
  (t) => [index("sessions_device_idx").on(t.deviceId), index("sessions_user_idx").on(t.userId)],
);

export const invites = pgTable(
  "invites",
  {
    id: uuid("id").primaryKey(),
    // hex SHA-256 of the invite token
    tokenHash: text("token_hash").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    expiresAt: ts("expires_at").notNull(),
    maxUses: integer("max_uses").notNull().default(1),
    uses: integer("uses").notNull().default(0),
    revokedAt: ts("revoked_at"),
    createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [uniqueIndex("invites_token_hash_idx").on(t.tokenHash)],
);

export const channels = pgTable("channels", {
  id: uuid("id").primaryKey(),
  encryptedName: text("encrypted_name").notNull(),
  createdByUserId: uuid("created_by_user_id").references(() => users.id, { onDelete: "set null" }),
  createdAt: ts("created_at").notNull().defaultNow(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
  keyEpoch: integer("key_epoch").notNull().default(1),
});

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey(),
    channelId: uuid("channel_id")
      .notNull()
      .references(() => channels.id, { onDelete: "cascade" }),
    senderUserId: uuid("sender_user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    senderDeviceId: uuid("sender_device_id").notNull(),
    encryptedBody: text("encrypted_body").notNull(),
    encryptedSenderName: text("encrypted_sender_name").notNull(),
    keyEpoch: integer("key_epoch").notNull(),
    // the seq of the MessageCreated event: orders history and pages it
    seq: bigint("seq", { mode: "bigint" }).notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  // Ascending: history pages (ORDER BY seq DESC, i.e. NULLS FIRST) scan it backwards. A
  // "seq DESC" index would be DESC NULLS LAST, which that ORDER BY cannot use.
  (t) => [uniqueIndex("messages_channel_seq_idx").on(t.channelId, t.seq)],
);

export const envelopes = pgTable(
  "envelopes",
  {
    // 1 = channel, 2 = directory (the KeyKind enum of the API)
    kind: smallint("kind").notNull(),
    scopeId: text("scope_id").notNull(),
    epoch: integer("epoch").notNull(),
    recipientDeviceId: uuid("recipient_device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    senderDeviceId: uuid("sender_device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    // set for channel keys so deleting a channel deletes its envelopes
    channelId: uuid("channel_id").references(() => channels.id, { onDelete: "cascade" }),
    ciphertext: text("ciphertext").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    // set when the recipient reports it opened and checked the envelope (or at once when a
    // device writes to itself): devices with an accepted envelope are no longer "missing"
    acceptedAt: ts("accepted_at"),
  },
  (t) => [
    // one envelope per sender: a member writing junk for a device cannot take the slot
    primaryKey({ columns: [t.kind, t.scopeId, t.epoch, t.recipientDeviceId, t.senderDeviceId] }),
    index("envelopes_recipient_idx").on(t.recipientDeviceId),
    // the directory key of an epoch is the one whose creator wrote to itself first
    uniqueIndex("envelopes_directory_creator_idx")
      .on(t.kind, t.scopeId, t.epoch)
      .where(sql`${t.kind} = 2 AND ${t.senderDeviceId} = ${t.recipientDeviceId}`),
  ],
);

export const profiles = pgTable("profiles", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  encryptedName: text("encrypted_name").notNull(),
  keyEpoch: integer("key_epoch").notNull(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

// One row: the last seq handed out. Taking it with UPDATE ... RETURNING row-locks it
// until commit, so seqs become visible in commit order and a reader never sees a
// later seq before an earlier one commits (no gaps for resuming subscribers).
export const eventHead = pgTable("event_head", {
  id: smallint("id").primaryKey().default(1),
  seq: bigint("seq", { mode: "bigint" }).notNull().default(sql`0`),
});

export const events = pgTable("events", {
  seq: bigint("seq", { mode: "bigint" }).primaryKey(),
  // the payload case, for operators reading the table
  type: text("type").notNull(),
  // binary dialtone.v1.Event without its seq (the key carries it; see server/codec/event-log.ts)
  payload: bytea("payload").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

// Data migrations (TypeScript steps run after the SQL ones, see data-migrations.ts): the ones
// applied, so each runs once.
export const dataMigrations = pgTable("data_migrations", {
  name: text("name").primaryKey(),
  appliedAt: ts("applied_at").notNull().defaultNow(),
});

// Signed identities (docs/API.md, IdentityService). The server stores and routes the statements
// and checks their signatures, but clients verify every one again: it cannot make one.

// One Ed25519 identity key per account, published once (base64 of the 32 raw bytes).
export const identities = pgTable("identities", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  publicKey: text("public_key").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

// `admission|{user_id}|{identity_public_key}|{role}` signed by an admin's identity key.
export const admissions = pgTable(
  "admissions",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    identityPublicKey: text("identity_public_key").notNull(),
    // 1 = member, 2 = admin (the AdmissionRole enum of the API)
    role: smallint("role").notNull(),
    signerUserId: uuid("signer_user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    signature: text("signature").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("admissions_statement_idx").on(t.userId, t.identityPublicKey, t.role, t.signerUserId),
    // The root is the one self-signed admission: a second one, however it races, conflicts here.
    uniqueIndex("admissions_root_idx").on(sql`(true)`).where(sql`${t.userId} = ${t.signerUserId}`),
  ],
);

// `removal|{user_id}|{identity_public_key}` signed by an admin's identity key.
export const removals = pgTable("removals", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  identityPublicKey: text("identity_public_key").notNull(),
  signerUserId: uuid("signer_user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  signature: text("signature").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

// HMAC-SHA256(admission secret, `dialtone/v1/admission-request|…`) for the invite the account
// used; the minting admin's client checks it. The first one sent is kept.
export const admissionRequests = pgTable("admission_requests", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  inviteId: uuid("invite_id").notNull(),
  mac: text("mac").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

// `channel-key|…` and `directory-key|…` signed by the signer's identity key: one per signer and
// (kind, scope, epoch). A channel's statements go when the channel is deleted (repos/channels.ts).
export const keyStatements = pgTable(
  "key_statements",
  {
    // 1 = channel, 2 = directory (the KeyKind enum of the API)
    kind: smallint("kind").notNull(),
    scopeId: text("scope_id").notNull(),
    epoch: integer("epoch").notNull(),
    signerUserId: uuid("signer_user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    // base64 of SHA-256 of the key
    keyHash: text("key_hash").notNull(),
    signature: text("signature").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.scopeId, t.epoch, t.signerUserId] })],
);

// Each account's encrypted key backup (client ciphertext), replaced by compare-and-set on version.
export const keyBackups = pgTable("key_backups", {
  userId: uuid("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  version: bigint("version", { mode: "bigint" }).notNull(),
  ciphertext: text("ciphertext").notNull(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

// Where each account has read each channel to (ReadStateService): a seq, never content. The
// marker only moves forward, so two devices reading at once cannot undo each other.
export const readMarkers = pgTable(
  "read_markers",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    channelId: uuid("channel_id")
      .notNull()
      .references(() => channels.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "bigint" }).notNull(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.channelId] })],
);
