// An in-process Dialtone server on a free port, over a given database.
import type { AddressInfo } from "node:net";
import { createApp, type App } from "../../server/app.js";
import type { Database } from "../../server/db/client.js";
import { createListener } from "../../server/http/listener.js";
import { createLogger } from "../../server/log.js";

export interface TestServer {
  url: string;
  port: number;
  app: App;
  database: Database;
  adminToken: string;
  /** Everything the server logged (JSON lines). */
  logs: string[];
  close(): Promise<void>;
}

export interface TestServerOptions {
  heartbeatSeconds?: number;
  port?: number;
  turn?: App["deps"]["turn"];
  authRatePerIp?: number;
  trustedProxies?: string[];
  loginBackoff?: Parameters<typeof createApp>[0]["loginBackoff"];
  streamsPerSession?: number;
  streamsPerDevice?: number;
  /** Sends per session: tests send in bursts, so the default is far above the server's own. */
  sendRatePerSession?: number;
  sendBurstPerSession?: number;
}

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const TEST_PEPPER = "test-pepper-0123456789abcdef";

export async function startTestServer(database: Database, o: TestServerOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const app = await createApp({
    database,
    secrets: { adminToken: TEST_ADMIN_TOKEN, usernamePepper: TEST_PEPPER },
    log: createLogger("debug", (line) => void logs.push(line)),
    heartbeatSeconds: o.heartbeatSeconds ?? 15,
    authRatePerIp: o.authRatePerIp ?? 10_000,
    ...(o.trustedProxies ? { trustedProxies: o.trustedProxies } : {}),
    ...(o.loginBackoff ? { loginBackoff: o.loginBackoff } : {}),
    ...(o.streamsPerSession ? { streamsPerSession: o.streamsPerSession } : {}),
    ...(o.streamsPerDevice ? { streamsPerDevice: o.streamsPerDevice } : {}),
    sendRatePerSession: o.sendRatePerSession ?? 10_000,
    sendBurstPerSession: o.sendBurstPerSession ?? 10_000,
    ...(o.turn ? { turn: o.turn } : {}),
  });
  const listener = createListener(app.handler);
  await new Promise<void>((resolve) => listener.server.listen(o.port ?? 0, "127.0.0.1", resolve));
  const port = (listener.server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    app,
    database,
    adminToken: TEST_ADMIN_TOKEN,
    logs,
    async close() {
      app.endStreams();
      await listener.close(2000);
    },
  };
}
