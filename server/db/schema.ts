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
