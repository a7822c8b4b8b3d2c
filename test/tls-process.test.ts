// TLS on the real dialtone-server process: a self-signed certificate (openssl at test
// time), Connect over HTTP/1.1 and gRPC over HTTP/2 by ALPN on one port, and after the
// files are replaced and SIGHUP sent, a new connection sees the new certificate.
import { X509Certificate } from "node:crypto";
import { readFileSync, renameSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { InviteService } from "../gen/dialtone/v1/invite_service_pb.js";
import { cleanEnv, startServerProcess, tempDir, type ServerProcess } from "./support/process.js";
import { selfSigned } from "./support/tls.js";

let tmp: ReturnType<typeof tempDir>;
let server: ServerProcess;
let adminToken: string;
const managers: Http2SessionManager[] = [];

/** A fresh self-signed pair for localhost, written to name.crt / name.key. */
const pairNamed = (name: string) => selfSigned(tmp.dir, name, { subject: `localhost ${name}` });

/** A new TLS connection: the ALPN protocol chosen and the certificate presented. */
function handshake(port: number, alpn: string[]): Promise<{ protocol: string | false; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ALPNProtocols: alpn, rejectUnauthorized: false }, () => {
      resolve({ protocol: s.alpnProtocol ?? false, fingerprint: s.getPeerCertificate().fingerprint256 });
      s.destroy();
    });
    s.once("error", reject);
  });
}

function clients(port: number, ca: Buffer) {
  const baseUrl = `https://localhost:${port}`;
  const headers = { "x-admin-token": adminToken };
  const h1 = createClient(InviteService, createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { ca, agent: false } }));
  const sm = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 5 }, { ca });
  managers.push(sm);
  const h2 = createClient(InviteService, createGrpcTransport({ baseUrl, sessionManager: sm }));
  return { h1: () => h1.listInvites({}, { headers }), h2: () => h2.listInvites({}, { headers }) };
}

beforeAll(async () => {
  tmp = tempDir("dialtone-tls-");
  const first = pairNamed("first");
  renameSync(first.certPath, path.join(tmp.dir, "server.crt"));
  renameSync(first.keyPath, path.join(tmp.dir, "server.key"));
  server = await startServerProcess(
    cleanEnv({
      DIALTONE_DATA_DIR: path.join(tmp.dir, "data"),
      DIALTONE_LISTEN_ADDR: "127.0.0.1:0",
      DIALTONE_TLS_CERT: path.join(tmp.dir, "server.crt"),
      DIALTONE_TLS_KEY: path.join(tmp.dir, "server.key"),
    }),
  );
  adminToken = readFileSync(path.join(tmp.dir, "data", "admin-token"), "utf8").trim();
}, 60_000);
afterAll(async () => {
  managers.forEach((m) => m.abort());
  expect(await server?.stop()).toBe(0);
  tmp?.remove();
});

test("Connect over HTTP/1.1 and gRPC over HTTP/2; SIGHUP reloads the replaced certificate", async () => {
  expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const firstPem = readFileSync(path.join(tmp.dir, "server.crt"));
  const firstFp = new X509Certificate(firstPem).fingerprint256;
  expect(await handshake(server.port, ["h2"])).toEqual({ protocol: "h2", fingerprint: firstFp });
  expect(await handshake(server.port, ["http/1.1"])).toEqual({ protocol: "http/1.1", fingerprint: firstFp });

  const one = clients(server.port, firstPem);
  expect((await one.h1()).invites.length).toBeGreaterThanOrEqual(1); // the start-up invite
  expect((await one.h2()).invites.length).toBeGreaterThanOrEqual(1);
  const health = await new Promise<number>((resolve, reject) =>
    tls
      .connect(
        { host: "127.0.0.1", port: server.port, ca: firstPem, servername: "localhost", ALPNProtocols: ["http/1.1"] },
        function (this: tls.TLSSocket) {
          this.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
          let body = "";
          this.on("data", (c: Buffer) => (body += c.toString()));
          this.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(body)?.[1])));
        },
      )
      .once("error", reject),
  );
  expect(health).toBe(200);

  // Replace the files the way certbot does (write new, rename over), then SIGHUP.
  const second = pairNamed("second");
  renameSync(second.certPath, path.join(tmp.dir, "server.crt"));
  renameSync(second.keyPath, path.join(tmp.dir, "server.key"));
  const logged = server.stderr().length;
  server.proc.kill("SIGHUP");
  for (let i = 0; !server.stderr().slice(logged).includes("tls certificate reloaded"); i++) {
    if (i > 100) throw new Error(`no reload logged:\n${server.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(await handshake(server.port, ["h2"])).toEqual({ protocol: "h2", fingerprint: second.fingerprint });
  expect(await handshake(server.port, ["http/1.1"])).toEqual({ protocol: "http/1.1", fingerprint: second.fingerprint });
  const two = clients(server.port, second.cert);
  expect((await two.h1()).invites.length).toBeGreaterThanOrEqual(1);
  expect((await two.h2()).invites.length).toBeGreaterThanOrEqual(1);
  await expect(clients(server.port, firstPem).h1()).rejects.toThrow(/certificate/i);
  expect(server.stderr()).not.toContain(adminToken);
}, 60_000);
