// Registration, login, logout and session resolution.
import { randomUUID } from "node:crypto";
import * as repo from "../db/repos/accounts.js";
import type { Caller, Deps } from "./deps.js";
import { SESSION_TTL_MS } from "./deps.js";
import { DomainError, refusable } from "./errors.js";
import { checkPasswordRules, dummyHash, hashPassword, verifyPassword } from "./passwords.js";
import { hashUsername, normaliseUsername } from "./usernames.js";
import { hashToken, newToken } from "./tokens.js";
import { publicKey, required } from "./validate.js";
import { durable, toDevice } from "./wire.js";

export interface SessionResult {
  token: string;
  userId: string;
  deviceId: string;
  isAdmin: boolean;
  expiresAt: Date;
}

export async function register(
  deps: Deps,
  req: { username: string; password: string; inviteToken: string; devicePublicKey: string },
): Promise<SessionResult> {
  const username = normaliseUsername(req.username);
  checkPasswordRules(req.password);
  const inviteToken = required("invite_token", req.inviteToken, 256);
  const key = publicKey("device_public_key", req.devicePublicKey);
  const usernameHash = hashUsername(deps.secrets.usernamePepper, username);
  const passwordHash = await hashPassword(req.password);
  const now = deps.now();
  const token = newToken();
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  const result = await refusable(
    repo.registerAccount(deps.database.db, {
      userId: randomUUID(),
      usernameHash,
      passwordHash,
      deviceId: randomUUID(),
      publicKey: key,
      inviteTokenHash: hashToken(inviteToken),
      session: { tokenHash: hashToken(token), expiresAt },
      now,
      events: (user, device) => [
        durable({ case: "userJoined", value: { userId: user.id, isAdmin: user.isAdmin } }, now),
        durable({ case: "deviceAdded", value: { device: toDevice(device) } }, now),
      ],
    }),
  );
  deps.bus.publishDurable(result.events);
  deps.log.info("account registered", { user_id: result.user.id, device_id: result.device.id, admin: result.user.isAdmin });
  return { token, userId: result.user.id, deviceId: result.device.id, isAdmin: result.user.isAdmin, expiresAt };
}

export async function login(
  deps: Deps,
  peer: string,
  req: { username: string; password: string; devicePublicKey: string },
): Promise<SessionResult & { deviceCreated: boolean }> {
  const username = normaliseUsername(req.username);
  if (!req.password) throw new DomainError("invalid_argument", "password: required");
  if (req.password.length > 1024) throw new DomainError("invalid_argument", "password: too long");
  const key = publicKey("device_public_key", req.devicePublicKey);
  const usernameHash = hashUsername(deps.secrets.usernamePepper, username);
  // Slowed per (account, address), never locked: see login-backoff.ts. The answer does not say
  // whether the account exists (unknown names are slowed the same way).
  const waitMs = deps.limits.logins.begin(usernameHash, peer);
  if (waitMs > 0) {
    throw new DomainError(
      "resource_exhausted",
      `too many failed logins for this account from this address; try again in ${Math.ceil(waitMs / 1000)} s`,
    );
  }
  const user = await repo.findUserByUsernameHash(deps.database.db, usernameHash);
  const ok = await verifyPassword(req.password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !ok) throw new DomainError("unauthenticated", "wrong username or password");
  deps.limits.logins.succeeded(usernameHash, peer);
  const now = deps.now();
  const token = newToken();
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  const result = await refusable(
    repo.loginDevice(deps.database.db, {
      userId: user.id,
      publicKey: key,
      newDeviceId: randomUUID(),
      session: { tokenHash: hashToken(token), expiresAt },
      now,
      deviceAddedEvent: (device) => durable({ case: "deviceAdded", value: { device: toDevice(device) } }, now),
    }),
  );
  deps.bus.publishDurable(result.events);
  deps.log.info("login", { user_id: user.id, device_id: result.device.id, new_device: result.created });
  return { token, userId: user.id, deviceId: result.device.id, isAdmin: user.isAdmin, expiresAt, deviceCreated: result.created };
}

export async function logout(deps: Deps, caller: Caller) {
  await repo.deleteSession(deps.database.db, caller.tokenHash);
  // Its open streams end now, here and in every other process (which also drop it from their session caches).
  deps.feed.endSession(caller.tokenHash);
  deps.bus.publishState({ kind: "session-end", sessionKey: caller.tokenHash });
  deps.log.info("logout", { user_id: caller.userId, device_id: caller.deviceId });
}

// Sliding expiry is written at most once a minute per session, not on every call.
const TOUCH_EVERY_MS = 60_000;

/** Resolves a bearer token to its caller, sliding the session's expiry. */
export async function resolveSession(deps: Deps, token: string): Promise<Caller | undefined> {
  const now = deps.now();
  const s = await repo.findSession(deps.database.db, hashToken(token), now);
  if (!s) return undefined;
  let expiresAt = s.expiresAt;
  if (now.getTime() - s.lastUsedAt.getTime() >= TOUCH_EVERY_MS) {
    expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    await repo.touchSession(deps.database.db, s, now, expiresAt);
  }
  return { userId: s.userId, deviceId: s.deviceId, isAdmin: s.isAdmin, tokenHash: s.tokenHash, expiresAt };
}
