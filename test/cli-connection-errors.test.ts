// What the CLI says when the server URL is wrong, against real listeners: a typo in the host, a
// closed port, a plain web server, a TCP server that hangs up, TLS where there is none and a
// self-signed certificate, a wrong path, a URL without a scheme, a short passphrase. Each is one
// honest line naming the URL (never "the server said" for what no Dialtone server said, never a
// Node error code, an OpenSSL string or an internal function name); real answers of a Dialtone
// server keep being the server's.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { runCli } from "../client/cli/run.js";
import { mintInvite } from "./support/api.js";
import { fakeIo } from "./support/cli-io.js";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { freePort } from "./support/ports.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { selfSigned } from "./support/tls.js";

const PASSWORD = "correct horse battery";
const PASSPHRASE = "keystore passphrase";
/** Node error codes, OpenSSL and parser strings, internal names, stack frames. */
const LEAKS = [/\b(E[A-Z]{4,}|ERR_[A-Z_]+|HPE_[A-Z_]+)\b/, /internal|getaddrinfo|ssl|Keystore\.|serverOrigin|\[object|undefined|\n\s+at /i];

let dir: string;
let source: DatabaseSource;
let dialtoneServer: TestServer;
const closers: Array<() => Promise<void>> = [];

/** Listens on a free loopback port; afterAll closes it and every connection it still holds (keep-alive). */
async function listen(server: net.Server): Promise<string> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => sockets.add(s.once("close", () => sockets.delete(s))));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  });
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/** `dialtone register` in a fresh config dir, in-process; the exit code and stderr. */
async function register(serverUrl: string, opts: { passphrase?: string; invite?: string } = {}) {
  const configDir = await mkdtemp(join(dir, "cfg-"));
  const f = fakeIo({ DIALTONE_CONFIG_DIR: configDir, DIALTONE_PASSWORD: PASSWORD, DIALTONE_PASSPHRASE: opts.passphrase ?? PASSPHRASE });
  const argv = ["register", "--server", serverUrl, "--username", "ada", "--invite", opts.invite ?? "no-such-invite"];
  const code = await runCli(argv, f.io);
  return { code, err: f.err(), out: f.out(), configDir };
}

/** Exit 2 and exactly one line on stderr, which says `text` and leaks nothing. */
function expectOneLine(r: { code: number; err: string }, text: string, code = 2): void {
  expect(r.err).toBe(`dialtone: ${text}\n`);
  for (const leak of LEAKS) expect(r.err).not.toMatch(leak);
  expect(r.err).not.toContain("the server said");
  expect(r.code).toBe(code);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dialtone-cli-conn-"));
  source = await databaseSource("pglite");
  dialtoneServer = await startTestServer(await source.fresh());
}, 60_000);

afterAll(async () => {
  for (const close of closers) await close();
  await dialtoneServer?.close();
  await dialtoneServer?.database.close();
  await source?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("no Dialtone server at the URL", () => {
  test("a host name that does not resolve: cannot find host", async () => {
    const r = await register("http://no-such-host.invalid:8080");
    expectOneLine(r, "cannot find host no-such-host.invalid (check the server URL)");
  });

  test("a closed port: nothing answers at the URL", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    expectOneLine(await register(url), `nothing answers at ${url} (is dialtone-server running there?)`);
  });

  test("a plain web server (HTTP 404 for the API path): not a Dialtone server", async () => {
    const url = `http://${await listen(http.createServer((_req, res) => res.writeHead(404).end("not found")))}`;
    expectOneLine(await register(url), `${url} does not look like a Dialtone server (HTTP 404 Not Found for the API: a wrong path?)`);
  });

  test("a web server answering HTML: not a Dialtone server", async () => {
    const html = http.createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html></html>"));
    const url = `http://${await listen(html)}`;
    expectOneLine(await register(url), `${url} does not look like a Dialtone server (it answered text/html instead of the Dialtone API)`);
  });

  test("a TCP server that hangs up at once: not a Dialtone server", async () => {
    const address = await listen(net.createServer((socket) => socket.destroy()));
    const url = `http://${address}`;
    expectOneLine(
      await register(url),
      `${url} does not look like a Dialtone server (it closed the connection without answering; if it serves TLS, use https://${address})`,
    );
  });

  test("a TCP server that does not speak HTTP: not a Dialtone server", async () => {
    const url = `http://${await listen(net.createServer((socket) => socket.end("SSH-2.0-OpenSSH_9.2\r\n")))}`;
    expectOneLine(await register(url), `${url} does not look like a Dialtone server (it does not answer in HTTP)`);
  });
});

describe("a Dialtone server, reached the wrong way", () => {
  test("https:// to a cleartext server: it does not speak TLS", async () => {
    const address = new URL(dialtoneServer.url).host;
    expectOneLine(
      await register(`https://${address}`),
      `https://${address} does not look like a Dialtone server (it does not speak TLS: try http://${address})`,
    );
  });

  test("a path the server serves nothing under", async () => {
    const url = `${dialtoneServer.url}/chat`;
    expectOneLine(
      await register(url),
      `${url} does not look like a Dialtone server (nothing is served under /chat: try ${dialtoneServer.url})`,
    );
  });

  test("a TLS server with a self-signed certificate: not trusted, said so", async () => {
    const pair = selfSigned(dir, "tls", { names: "IP:127.0.0.1" });
    const server = tls.createServer({ key: pair.key, cert: pair.cert }, (s) => s.end());
    const url = `https://${await listen(server)}`;
    expectOneLine(
      await register(url),
      `cannot trust the TLS certificate of ${url} (it is self-signed; NODE_EXTRA_CA_CERTS=FILE adds a CA to trust)`,
    );
  });

  test("what the server really says stays the server's", async () => {
    const r = await register(dialtoneServer.url, { invite: "no-such-invite" });
    expect(r.err).toBe("dialtone: the server said not-found: invite_token: unknown invite\n");
    expect(r.code).toBe(2);
  });
});

describe("input the CLI checks itself", () => {
  test("a short keystore passphrase: the rule, without an internal name", async () => {
    const r = await register(dialtoneServer.url, { passphrase: "short" });
    expectOneLine(r, "the keystore passphrase needs at least 8 characters", 1);
  });

  test("localhost:PORT without a scheme: http:// is assumed, and said", async () => {
    const port = new URL(dialtoneServer.url).port;
    const r = await register(`localhost:${port}`, { invite: await mintInvite(dialtoneServer.url) });
    expect(r.err).toBe(`dialtone: --server localhost:${port} has no scheme: using http://localhost:${port}\n`);
    expect(r.out).toContain(`registered on http://localhost:${port} as ada`);
    expect(r.code).toBe(0);
  });

  test("another host without a scheme: the expected form, naming the field", async () => {
    const r = await register("chat.example.org:8443");
    expectOneLine(
      r,
      'server URL: expected http://host:port or https://host, not "chat.example.org:8443"; for this host write https://chat.example.org:8443 or http://chat.example.org:8443',
      1,
    );
  });

  test("no URL at all: the expected form", async () => {
    expectOneLine(await register("chat"), 'server URL: expected http://host:port or https://host, not "chat"', 1);
  });
});
