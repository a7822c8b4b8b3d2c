// A safety number as lines: who it is with, the 60 digits, the devices left out, and whether it
// is verified (or how to record that it is).
import type { UserView } from "../names.js";
import { shortId } from "../names.js";
import type { SafetyNumberResult } from "../verify.js";
import type { CommandHints } from "./hints.js";

export function safetyNumberLines(
  user: UserView,
  result: SafetyNumberResult,
  options: { readonly marked: boolean; readonly typed: string; readonly hints: CommandHints },
): string[] {
  const lines = [`safety number with ${user.label} (user ${shortId(user.userId)}):`, ...result.formatted.split("\n").map((l) => `  ${l}`)];
  for (const d of result.refused) lines.push(`!! device ${shortId(d.deviceId)} shows a key other than the pinned one: left out, refused`);
  lines.push(
    options.marked || result.verified
      ? `${user.label} is verified at this number${options.marked ? " (recorded now)" : ""}`
      : `not verified: compare these digits with ${user.label} out of band, then run: ${options.hints.confirmVerified(options.typed)}`,
  );
  return lines;
}
