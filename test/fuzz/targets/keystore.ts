// client/keystore's inner document (the decrypted JSON): what a damaged or hostile keystore holds.
import fc from "fast-check";
import { generateX25519KeyPair } from "../../../client/crypto/index.js";
import { KeystoreError } from "../../../client/keystore/index.js";
import { parseState, serializeState } from "../../../client/keystore/state.js";
import { mutatedText } from "../mutate.js";
import { defineTarget, expectRefusal, FuzzFinding, type FuzzTarget } from "../target.js";

export async function keystoreTargets(): Promise<FuzzTarget[]> {
  const device = await generateX25519KeyPair();
  const valid = serializeState({
    device,
    channelKeys: new Map([["9d3b3e62-6a5b-4b8e-9a51-7b2f0c1d2e3f", new Map([[1, new Uint8Array(32).fill(7)]])]]),
    directoryKeys: new Map([[1, new Uint8Array(32).fill(9)]]),
    pinnedDevices: new Map(),
    verifiedUsers: new Map(),
    session: undefined,
    lastEventSeq: 42n,
    identity: { privateKey: new Uint8Array(32).fill(3), publicKey: new Uint8Array(32).fill(4) },
    backupKey: new Uint8Array(32).fill(5),
    root: { fingerprint: new Uint8Array(32).fill(6), source: "invite", pinnedAt: new Date(0) },
    pinnedIdentities: new Map([
      [
        "9d3b3e62-6a5b-4b8e-9a51-7b2f0c1d2e3f",
        { userId: "9d3b3e62-6a5b-4b8e-9a51-7b2f0c1d2e3f", publicKey: new Uint8Array(32).fill(8), firstSeen: new Date(0) },
      ],
    ]),
    inviteSecrets: new Map(),
    pendingAdmissionSecret: undefined,
    upgradedAt: undefined,
    searchCacheKey: new Uint8Array(32).fill(10),
  });
  const doc = JSON.parse(valid) as Record<string, unknown>;
  const fields = Object.keys(doc);
  // Each top-level field replaced by any JSON value: the shape checks, one field at a time.
  const fieldSwap = fc.tuple(fc.constantFrom(...fields), fc.jsonValue()).map(([k, v]) => JSON.stringify({ ...doc, [k]: v }));
  return [
    defineTarget({
      name: "keystore-document",
      about: "parseState on mutated inner documents, documents with a field of any JSON value, and arbitrary JSON",
      input: fc.oneof(mutatedText(valid), fieldSwap, fc.json()),
      check(input) {
        let state: ReturnType<typeof parseState>;
        try {
          state = parseState(input, "fuzz");
        } catch (err) {
          expectRefusal(err, [KeystoreError], "parseState");
          const code = (err as KeystoreError).code;
          if (code !== "corrupted" && code !== "unsupported-version") throw new FuzzFinding(`parseState refused with code ${code}`);
          return;
        }
        // Accepted: it must survive a round trip unchanged (nothing half-parsed).
        const again = serializeState(state);
        if (serializeState(parseState(again, "fuzz")) !== again) throw new FuzzFinding(`parseState round trip changed ${input}`);
        if (state.device.privateKey.length !== 32 || state.device.publicKey.length !== 32)
          throw new FuzzFinding(`parseState accepted a device key of the wrong size: ${input}`);
      },
    }),
  ];
}
