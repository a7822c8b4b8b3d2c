// /devices as a table: a header, columns aligned, devices grouped by person (you first, then by
// name; within a person this install first, then the oldest). Pure: the command shows the lines.
import { deviceFlags, shortId, type DeviceView } from "../core/index.js";
import { displayWidth, truncate } from "./text.js";

const day = (d: Date | undefined) => (d ? d.toISOString().slice(0, 10) : "");
const pad = (s: string, cols: number) => s + " ".repeat(Math.max(0, cols - displayWidth(s)));

/** Longest person label shown before it is cut (with "…"): the other columns stay aligned. */
export const PERSON_MAX = 20;

export function deviceTable(devices: readonly DeviceView[], me: string): string[] {
  const people = new Map<string, DeviceView[]>();
  for (const d of devices) people.set(d.userId, [...(people.get(d.userId) ?? []), d]);
  const order = [...people.entries()].sort(
    ([a, da], [b, db]) => Number(b === me) - Number(a === me) || da[0]!.user.localeCompare(db[0]!.user) || (a < b ? -1 : 1),
  );
  const names = order.map(([, ds]) => truncate(ds[0]!.user, PERSON_MAX));
  const personWidth = Math.max(displayWidth("person"), ...names.map(displayWidth));
  const fpWidth = Math.max(displayWidth("fingerprint"), ...devices.map((d) => d.fingerprint.length));
  const row = (person: string, id: string, fp: string, seen: string, status: string) =>
    `  ${pad(person, personWidth)}  ${pad(id, 8)}  ${pad(fp, fpWidth)}  ${pad(seen, 10)}  ${status}`.trimEnd();
  const lines = [
    `devices (${devices.length}, of ${people.size} ${people.size === 1 ? "person" : "people"}):`,
    row("person", "device", "fingerprint", "last seen", "status"),
  ];
  order.forEach(([, ds], i) => {
    const sorted = [...ds].sort(
      (a, b) => Number(b.current) - Number(a.current) || (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0),
    );
    sorted.forEach((d, j) => {
      lines.push(row(j === 0 ? names[i]! : "", shortId(d.deviceId), d.fingerprint, day(d.lastSeenAt), deviceFlags(d).join(", ")));
    });
  });
  return lines;
}
