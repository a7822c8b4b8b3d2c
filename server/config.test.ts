import { describe, expect, test } from "@jest/globals";
import { ConfigError, loadConfig } from "./config.js";

const base = { HOME: "/home/u" };

describe("loadConfig", () => {
  test("defaults: loopback 8080, embedded database under XDG data dir, 15 s heartbeat", () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({ listenHost: "127.0.0.1", listenPort: 8080, dbUrl: undefined, heartbeatSeconds: 15, tls: undefined });
    expect(c.dataDir).toBe("/home/u/.local/share/dialtone-server");
    expect(loadConfig({ ...base, XDG_DATA_HOME: "/x" }).dataDir).toBe("/x/dialtone-server");
    expect(Object.isFrozen(c)).toBe(true);
  });

  test.each([
    [{ DIALTONE_LISTEN_ADDR: "8080" }, "DIALTONE_LISTEN_ADDR"],
    [{ DIALTONE_LISTEN_ADDR: "host:99999" }, "DIALTONE_LISTEN_ADDR"],
    [{ DIALTONE_DB_URL: "mysql://x" }, "DIALTONE_DB_URL"],
    [{ DIALTONE_DB_URL: "postgres://x/db" }, "DIALTONE_USERNAME_PEPPER"],
    [{ DIALTONE_DB_URL: "postgres://x/db", DIALTONE_USERNAME_PEPPER: "p".repeat(16) }, "DIALTONE_ADMIN_TOKEN"],
    [{ DIALTONE_ADMIN_TOKEN: "short" }, "DIALTONE_ADMIN_TOKEN"],
    [{ DIALTONE_TLS_CERT: "/c.pem" }, "DIALTONE_TLS_CERT/DIALTONE_TLS_KEY"],
    [{ DIALTONE_TURN_URLS: "http://turn" }, "DIALTONE_TURN_URLS"],
    [{ DIALTONE_TURN_SECRET: "s" }, "DIALTONE_TURN_SECRET"],
    [{ DIALTONE_HEARTBEAT_SECONDS: "60" }, "DIALTONE_HEARTBEAT_SECONDS"],
    [{ DIALTONE_AUTH_RATE_PER_IP: "many" }, "DIALTONE_AUTH_RATE_PER_IP"],
    [{ DIALTONE_LOG_LEVEL: "loud" }, "DIALTONE_LOG_LEVEL"],
    [{ DIALTONE_TRUSTED_PROXIES: "127.0.0.1,proxy.example" }, "DIALTONE_TRUSTED_PROXIES"],
  ])("%j is refused with one line naming %s", (env, name) => {
    let err: unknown;
    try {
      loadConfig({ ...base, ...env });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message.startsWith(name)).toBe(true);
    expect((err as Error).message).not.toContain("\n");
  });

  test("PostgreSQL with its secrets, TLS, TURN, IPv6 listen address", () => {
    const c = loadConfig({
      ...base,
      DIALTONE_DB_URL: "postgresql://u@h/db",
      DIALTONE_USERNAME_PEPPER: "p".repeat(16),
      DIALTONE_ADMIN_TOKEN: "a".repeat(16),
      DIALTONE_TLS_CERT: "/c.pem",
      DIALTONE_TLS_KEY: "/k.pem",
      DIALTONE_TURN_URLS: "stun:t:3478, turn:t:3478?transport=udp",
      DIALTONE_TURN_SECRET: "s3cret",
      DIALTONE_LISTEN_ADDR: "[::1]:9000",
    });
    expect(c).toMatchObject({ listenHost: "::1", listenPort: 9000, tls: { certFile: "/c.pem", keyFile: "/k.pem" } });
    expect(c.turnUrls).toEqual(["stun:t:3478", "turn:t:3478?transport=udp"]);
  });

  test("the obsolete DIALTONE_CHANNEL_KEY is ignored with a warning", () => {
    expect(loadConfig({ ...base, DIALTONE_CHANNEL_KEY: "abc" }).warnings).toEqual([expect.stringContaining("DIALTONE_CHANNEL_KEY")]);
  });
});
