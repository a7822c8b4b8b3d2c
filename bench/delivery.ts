// The delivery path alone: N Subscribe streams (a subscriber process, as in the fan-out
// scenario) on a server created in this process (server/app.ts on PGlite), events put
// straight into its feed at a fixed rate: server CPU per delivery without the Send path,
// the database or the bus. A micro-benchmark for before/after comparisons of the stream
// code; BENCH_SERVER_ROOT=DIR loads DIR/server instead of this checkout's.
//
//   node --import tsx bench/delivery.ts [--streams 500] [--rate 50] [--seconds 4] [--http 1.1|2]
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { migrate, serverRoot } from "./lib/dialtone.js";
import { Histogram, msSummary, nowUs, type HistogramData } from "./lib/hist.js";
import { messageId, sealedField } from "./lib/payload.js";
import { sleep, startChild } from "./lib/proc.js";
import { seed } from "./lib/seed.js";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "500" },
    rate: { type: "string", default: "50" },
    seconds: { type: "string", default: "4" },
    http: { type: "string", default: "1.1" },
  },
});
const [streams, rate, seconds] = [Number(values.streams), Number(values.rate), Number(values.seconds)];
const root = serverRoot();
const load = (p: string) => import(pathToFileURL(path.join(root, p)).href);
const { createApp } = (await load("server/app.ts")) as typeof import("../server/app.js");
const { openDatabase } = (await load("server/db/client.ts")) as typeof import("../server/db/client.js");
const { createListener } = (await load("server/http/listener.ts")) as typeof import("../server/http/listener.js");
const { createLogger } = (await load("server/log.ts")) as typeof import("../server/log.js");
const { ephemeral } = (await load("server/domain/wire.ts")) as typeof import("../server/domain/wire.js");

const dir = await mkdtemp(path.join(os.tmpdir(), "dialtone-delivery-"));
await migrate({ kind: "pglite", dataDir: dir });
const fx = await seed({ kind: "pglite", dataDir: dir }, { accounts: 50 });
const database = await openDatabase({ kind: "pglite", dataDir: path.join(dir, "pgdata") });
const app = await createApp({
  database,
  secrets: { adminToken: randomBytes(20).toString("hex"), usernamePepper: randomBytes(20).toString("hex") },
  log: createLogger("warn"),
  authRatePerIp: 1e6,
  streamsPerSession: 1e6,
  sendRatePerSession: 1e6,
  sendBurstPerSession: 1e6,
  streamsPerDevice: 1e6,
});
const listener = createListener(app.handler);
await new Promise<void>((r) => listener.server.listen(0, "127.0.0.1", r));
const port = (listener.server.address() as AddressInfo).port;
const { child } = await startChild("clients/subscribers.ts", {
  opts: { kind: "dialtone", port, tokens: fx.tokens, http: values.http, streamsPerConn: 1 },
});
await child.call("open", { total: streams });
await sleep(1000);

const body = sealedField(300);
const name = sealedField(49);
process.stdout.write(`${root}: ${streams} streams (${values.http === "2" ? "h2c" : "HTTP/1.1"}), ${rate} events/s for ${seconds} s\n`);
for (let round = 1; round <= 3; round++) {
  await child.call("reset");
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rate * seconds; i++) {
    const message = {
      messageId: messageId(i, round, 0, nowUs()),
      channelId: fx.channelId,
      encryptedBody: body,
      encryptedSenderName: name,
      keyEpoch: 1,
    };
    app.feed.deliverLocal({ audience: { kind: "all" }, event: ephemeral({ case: "messageCreated", value: { message } }) });
    await sleep(Math.max(0, t0 + ((i + 1) * 1000) / rate - performance.now()));
  }
  await sleep(500);
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - t0) / 1000;
  const ph = (await child.call<Record<number, { deliveries: number; hist: HistogramData }>>("phases", { list: [round] }))[round]!;
  const lat = msSummary(Histogram.from([ph.hist]).summary());
  const cpuUs = c.user + c.system;
  process.stdout.write(
    `round ${round}: ${ph.deliveries} deliveries, ${(cpuUs / ph.deliveries).toFixed(1)} µs server CPU each (${(cpuUs / 1e4 / wall).toFixed(0)} % of a core), latency p50 ${lat.p50} ms p99 ${lat.p99} ms\n`,
  );
}
await child.stop();
app.endStreams();
await listener.close(500);
await database.close();
await rm(dir, { recursive: true, force: true });
process.exit(0);
