// One device as a line, for `dialtone devices` and the UI's /devices alike.
import type { DeviceView } from "../events.js";
import { shortId } from "../names.js";

/** What to say about a device besides its key: this install, a new pin, a refused key, verification. */
export function deviceFlags(d: DeviceView): string[] {
  const status =
    d.status === "changed"
      ? "!! KEY CHANGED, refused"
      : d.status === "pinned"
        ? "new, pinned now"
        : d.status === "invalid"
          ? "invalid key"
          : "";
  const trust =
    d.trust === "revoked"
      ? "revoked"
      : d.trust === "unverified"
        ? "UNVERIFIED: not approved by its owner, gets no keys"
        : d.standing === "pending"
          ? "owner NOT ADMITTED: gets no keys"
          : d.standing === "no-identity"
            ? "owner has no identity yet"
            : "";
  return [d.current ? "this device" : "", status, trust, d.verified ? "verified" : ""].filter(Boolean);
}

/** "bob 1a2b3c4d 0123 4567 89ab cdef 0123 (this device, verified)". */
export function deviceLine(d: DeviceView): string {
  const flags = deviceFlags(d);
  return `${d.user} ${shortId(d.deviceId)} ${d.fingerprint}${flags.length ? ` (${flags.join(", ")})` : ""}`;
}
