// Accounts as rows, for `dialtone admin users` and the UI's /admin users alike: a header and
// columns aligned to the longest name.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Account } from "../accounts.js";
import { shortId } from "../names.js";

const day = (t: Account["info"]["createdAt"]) => (t ? timestampDate(t).toISOString().slice(0, 10) : "?");

/** The header and one row per account: name, id prefix, active devices, registration day, flags. */
export function accountLines(accounts: readonly Account[]): string[] {
  const nameWidth = Math.max(4, ...accounts.map((a) => a.label.length));
  const row = (name: string, id: string, devices: string, since: string, flags: string) =>
    `${name.padEnd(nameWidth)}  ${id.padEnd(8)}  ${devices.padStart(7)}  ${since.padEnd(10)}  ${flags}`.trimEnd();
  return [
    row("name", "id", "devices", "registered", "flags"),
    ...accounts.map((a) => {
      const flags = [
        a.info.isAdmin ? "admin" : "",
        a.info.online ? "online" : "",
        a.info.removedAt ? `removed ${day(a.info.removedAt)}` : "",
      ];
      const active = a.info.devices.filter((d) => !d.revokedAt).length;
      return row(a.label, shortId(a.info.userId), String(active), day(a.info.createdAt), flags.filter(Boolean).join(", "));
    }),
  ];
}
