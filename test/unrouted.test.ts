// What a client gets for a method the server does not have, or a content type it does not
// serve, in its own protocol: gRPC's UNIMPLEMENTED (not a bare HTTP 404), Connect's JSON error,
// a 415 that names the content types served.
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import http2 from "node:http2";
import { databaseSource, type DatabaseSource } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/server.js";

let source: DatabaseSource;
let server: TestServer;

beforeAll(async () => {
  source = await databaseSource("pglite");
  server = await startTestServer(await source.fresh());
}, 60_000);

afterAll(async () => {
  await server?.close();
  await server?.database.close();
});

function h2Post(path: string, contentType: string): Promise<{ headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ":path": path, "content-type": contentType, te: "trailers" });
    let headers: http2.IncomingHttpHeaders = {};
    let body = "";
    req.on("response", (h) => (headers = h));
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      session.close();
      resolve({ headers, body });
    });
    req.on("error", reject);
    req.end(Buffer.from([0, 0, 0, 0, 0])); // one empty gRPC message
  });
}

test("gRPC, an unknown method: HTTP 200 with grpc-status 12 (UNIMPLEMENTED) naming the path", async () => {
  for (const path of ["/dialtone.v1.AuthService/NoSuchMethod", "/dialtone.v1.NoSuchService/Call"]) {
    const { headers, body } = await h2Post(path, "application/grpc");
    expect(headers[":status"]).toBe(200);
    expect(headers["grpc-status"]).toBe("12");
    expect(decodeURIComponent(String(headers["grpc-message"]))).toBe(`method not found: ${path}`);
    expect(body).toBe("");
  }
});

test("gRPC-Web over HTTP/1.1, an unknown method: grpc-status 12 in the headers", async () => {
  const res = await fetch(`${server.url}/dialtone.v1.AuthService/NoSuchMethod`, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto" },
    body: new Uint8Array([0, 0, 0, 0, 0]),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("grpc-status")).toBe("12");
});

test("Connect, an unknown method: 404 with the JSON error (code unimplemented)", async () => {
  const res = await fetch(`${server.url}/dialtone.v1.AuthService/NoSuchMethod`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  expect(res.status).toBe(404);
  expect(res.headers.get("content-type")).toBe("application/json");
  expect(await res.json()).toEqual({ code: "unimplemented", message: "method not found: /dialtone.v1.AuthService/NoSuchMethod" });
});

test("a known method with a content type no protocol serves: 415 that lists the ones served", async () => {
  const res = await fetch(`${server.url}/dialtone.v1.AuthService/Login`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: "hi",
  });
  expect(res.status).toBe(415);
  const text = await res.text();
  expect(text).toMatch(
    /^unsupported content type "text\/plain": \/dialtone\.v1\.AuthService\/Login is served as application\/json, application\/proto, .*application\/grpc/,
  );
  expect(res.headers.get("accept-post")).toContain("application/connect+proto");
  // The protocols themselves still pass.
  const ok = await fetch(`${server.url}/dialtone.v1.AuthService/GetSession`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  expect(ok.status).toBe(401);
});

test("anything else that is not routed: a plain 404", async () => {
  const res = await fetch(`${server.url}/favicon.ico`);
  expect(res.status).toBe(404);
  expect(await res.text()).toBe("not found\n");
});
