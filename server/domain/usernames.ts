// Usernames are normalised, then stored only as HMAC-SHA256(pepper, name).
import { createHmac } from "node:crypto";
import { invalid } from "./errors.js";

const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;

export function normaliseUsername(raw: string): string {
  const name = raw.normalize("NFKC").trim().toLowerCase();
  const length = [...name].length;
  if (length < 2 || length > 32) throw invalid("username", "must be 2-32 characters");
  if (FORBIDDEN.test(name)) throw invalid("username", "must not contain control or invisible characters");
  return name;
}

export function hashUsername(pepper: string, normalised: string): string {
  return createHmac("sha256", pepper).update(normalised, "utf8").digest("hex");
}
