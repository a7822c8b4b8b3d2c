// Every fuzz target, for the runner (npm run fuzz) and the jest smoke (test/fuzz.test.ts).
import type { FuzzTarget } from "./target.js";
import { cryptoTargets } from "./targets/crypto.js";
import { identityTargets } from "./targets/identity.js";
import { keystoreTargets } from "./targets/keystore.js";
import { requestTargets } from "./targets/requests.js";
import { wireTargets } from "./targets/wire.js";

export async function allTargets(): Promise<FuzzTarget[]> {
  return [
    ...(await cryptoTargets()),
    ...(await identityTargets()),
    ...(await keystoreTargets()),
    ...(await requestTargets()),
    ...(await wireTargets()),
  ];
}
