// whoami after keys arrived: an admin may admit this account and share keys with it between
// this client's read of who is admitted and its fetch of envelopes (`dialtone register --wait`
// against a running admin client). The keys are news the trust view predates: whoami must not
// go on saying "pending" (it did, and cli-e2e caught it once under load).
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import type { Api } from "./api.js";
import { DialtoneClient } from "./client.js";
import { sessionApi } from "./session.js";
import { Harness, type TestInstall } from "../../test/support/client-harness.js";

let h: Harness;
let admin: TestInstall;

beforeAll(async () => {
  h = await Harness.start();
  admin = await h.register("admin");
}, 90_000);
afterAll(() => h?.close());

test("admitted while this client reconciled: the keys it fetched make whoami read the standing again", async () => {
  const bob = await h.register("bob", { serverInvite: true });
  expect((await bob.client.whoami()).standing).toBe("pending");

  // A client on bob's keystore whose first envelope listing waits for the admin to admit bob
  // (which shares the directory key with him): after its reconcile read the trust lists.
  const api = sessionApi(bob.client.store);
  let admitted = false;
  const envelope: Api["envelope"] = {
    ...api.envelope,
    listEnvelopes: async (...args: Parameters<Api["envelope"]["listEnvelopes"]>) => {
      if (!admitted) {
        admitted = true;
        await admin.client.admit(bob.client.me.userId);
      }
      return api.envelope.listEnvelopes(...args);
    },
  };
  const client = await DialtoneClient.fromStore(bob.client.store, { ...api, envelope });
  try {
    await client.reconcile();
    expect(admitted).toBe(true);
    expect(client.keys.directoryKey()).toBeDefined();
    expect(await client.whoami()).toMatchObject({ standing: "admitted", role: "member" });
  } finally {
    await client.close();
  }
}, 60_000);
