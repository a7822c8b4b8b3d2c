import { describe, expect, test } from "@jest/globals";
import { clientAddress, TrustedProxies } from "./peer.js";

describe("clientAddress", () => {
  const proxies = new TrustedProxies(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);

  test("without trusted proxies the socket address is used, whatever the header says", () => {
    expect(clientAddress("203.0.113.9", "198.51.100.1", new TrustedProxies([]))).toBe("203.0.113.9");
  });

  test("a request from an untrusted peer keeps the peer's address", () => {
    expect(clientAddress("203.0.113.9", "198.51.100.1", proxies)).toBe("203.0.113.9");
  });

  test("behind a trusted proxy, the rightmost untrusted hop is the client", () => {
    expect(clientAddress("127.0.0.1", "198.51.100.7", proxies)).toBe("198.51.100.7");
    // The client prepended a fake hop; the proxy chain appended the real one.
    expect(clientAddress("10.1.2.3", "1.2.3.4, 198.51.100.7, 10.9.9.9", proxies)).toBe("198.51.100.7");
    expect(clientAddress("::ffff:10.1.2.3", ["1.2.3.4", "198.51.100.7"], proxies)).toBe("198.51.100.7");
    expect(clientAddress("fd00::1", "2001:db8::5", proxies)).toBe("2001:db8::5");
  });

  test("a trusted proxy without the header, or with garbage in it, counts as itself", () => {
    expect(clientAddress("127.0.0.1", undefined, proxies)).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", "not-an-address", proxies)).toBe("127.0.0.1");
    expect(clientAddress("::ffff:127.0.0.1", undefined, proxies)).toBe("127.0.0.1");
  });

  test("malformed proxy entries are refused", () => {
    expect(() => new TrustedProxies(["10.0.0.0/33"])).toThrow(/prefix/);
    expect(() => new TrustedProxies(["proxy.example"])).toThrow(/not an IP/);
    expect(() => new TrustedProxies(["10.0.0.0/8/1"])).toThrow(/not an IP/);
  });
});
