import { describe, expect, test } from "@jest/globals";
import { FIELD_LIMITS, LoginForm, serverUrl, type FieldName } from "./login-form.js";

function filled(mode: "login" | "register" = "login"): LoginForm {
  const f = new LoginForm({ server: "http://localhost:8080", mode });
  f.set("username", "alice");
  f.set("password", "hunter22");
  f.set("confirm", "hunter22");
  f.set("passphrase", "correct horse");
  f.set("invite", "tok_123");
  return f;
}

describe("fields and focus", () => {
  test("login and register fields in the reference's focus order", () => {
    expect(new LoginForm({}).fields).toEqual(["server", "username", "password", "passphrase"]);
    expect(new LoginForm({ mode: "register" }).fields).toEqual(["server", "username", "password", "confirm", "passphrase", "invite"]);
  });

  test("focus starts on the server, or on the username when the server is known", () => {
    expect(new LoginForm({}).focus).toBe("server");
    expect(new LoginForm({ server: "http://a" }).focus).toBe("username");
    const recent = new LoginForm({ recentServers: ["https://chat.example.org", "http://b"] });
    expect(recent.value("server")).toBe("https://chat.example.org");
    expect(recent.focus).toBe("username");
  });

  test("next and prev walk the fields and wrap", () => {
    const f = new LoginForm({});
    const seen: FieldName[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(f.focus);
      f.next();
    }
    expect(seen).toEqual(["server", "username", "password", "passphrase", "server"]);
    f.focus = "server";
    f.prev();
    expect(f.focus).toBe("passphrase");
  });

  test("toggleMode keeps values and moves focus off a field the new mode lacks", () => {
    const f = new LoginForm({ mode: "register" });
    f.set("username", "bob");
    f.focus = "invite";
    f.toggleMode();
    expect(f.mode).toBe("login");
    expect(f.focus).toBe("passphrase");
    expect(f.value("username")).toBe("bob");
    f.toggleMode();
    f.focus = "confirm";
    f.mode = "login";
    expect(f.focus).toBe("password");
    f.focus = "invite"; // not a login field: ignored
    expect(f.focus).toBe("password");
  });
});

describe("values", () => {
  test("secrets are masked one * per character; other fields are scrubbed of controls", () => {
    const f = new LoginForm({});
    f.set("password", "pä55wörd🔑");
    expect(f.display("password")).toBe("*********");
    f.set("passphrase", "x");
    expect(f.display("passphrase")).toBe("*");
    f.set("username", "al\u001b[31mice");
    expect(f.display("username")).toBe("al\uFFFD[31mice");
    expect(f.value("username")).toBe("al\u001b[31mice");
  });

  test("type() adds one line without controls and stops at the field limit", () => {
    const f = new LoginForm({ mode: "register" });
    f.focus = "invite";
    expect(f.type("\n  tok_abc\u0007\nsecond line\n")).toBe(true);
    expect(f.value("invite")).toBe("  tok_abc");
    f.focus = "username";
    expect(f.type("x".repeat(40))).toBe(false);
    expect(f.value("username")).toHaveLength(FIELD_LIMITS.username);
  });

  test("backspace removes a whole grapheme; deleteWordBack and clearField", () => {
    const f = new LoginForm({});
    f.focus = "username";
    f.type("bob 👨‍👩‍👧");
    f.backspace();
    expect(f.value("username")).toBe("bob ");
    f.type("x y");
    f.deleteWordBack();
    expect(f.value("username")).toBe("bob x ");
    f.clearField();
    expect(f.value("username")).toBe("");
  });

  test("recent servers: most recent first, case-insensitive dedup, at most 8", () => {
    const list = ["http://A", "http://a", " http://b ", "", ...Array.from({ length: 10 }, (_, i) => `http://s${i}`)];
    const f = new LoginForm({ recentServers: list });
    expect(f.recentServers).toHaveLength(8);
    expect(f.recentServers.slice(0, 3)).toEqual(["http://A", "http://b", "http://s0"]);
    f.useServer(1);
    expect(f.value("server")).toBe("http://b");
    f.useServer("https://other");
    expect(f.value("server")).toBe("https://other");
  });

  test("values() trims the non-secret fields only", () => {
    const f = filled("register");
    f.set("username", "  alice ");
    f.set("password", " spaced ");
    f.set("invite", " tok \n");
    expect(f.values()).toEqual({
      mode: "register",
      server: "http://localhost:8080",
      username: "alice",
      password: " spaced ",
      passphrase: "correct horse",
      invite: "tok",
    });
  });
});

describe("validate", () => {
  test("a complete form passes in both modes", () => {
    expect(filled("login").validate()).toBeUndefined();
    expect(filled("register").validate()).toBeUndefined();
  });

  test("the reference's messages, in its order", () => {
    const f = filled("register");
    f.set("server", "  ");
    expect(f.validate()).toBe("server url is required");
    f.set("server", "ftp://chat.example.org");
    expect(f.validate()).toBe("server url must start with http:// or https:// (only localhost:PORT may leave it out)");
    f.set("server", "https://chat.example.org");
    f.set("username", "");
    expect(f.validate()).toBe("username is required");
    f.set("username", "alice");
    f.set("password", "");
    expect(f.validate()).toBe("password is required");
    f.set("password", "hunter22");
    f.set("username", "a");
    expect(f.validate()).toBe("username must be 2-32 characters");
    f.set("username", "a".repeat(33));
    expect(f.validate()).toBe("username must be 2-32 characters");
    f.set("username", "漢字"); // two characters: fine
    expect(f.validate()).toBeUndefined();
    f.set("username", "ali\u200bce");
    expect(f.validate()).toMatch(/^username must not contain/);
    f.set("username", "alice");
    f.set("passphrase", "1234567");
    expect(f.validate()).toBe("keystore passphrase must be at least 8 characters");
    f.set("passphrase", "12345678");
    f.set("confirm", "other");
    expect(f.validate()).toBe("passwords do not match");
    f.set("confirm", "hunter22");
    f.set("invite", " ");
    expect(f.validate()).toBe("invite token is required");
  });

  test("every problem at once, in field order, each naming its field", () => {
    const f = filled("register");
    f.set("username", "a");
    f.set("confirm", "other");
    f.set("passphrase", "short");
    f.set("invite", "");
    expect(f.problems()).toEqual([
      { field: "username", message: "username must be 2-32 characters" },
      { field: "confirm", message: "passwords do not match" },
      { field: "passphrase", message: "keystore passphrase must be at least 8 characters" },
      { field: "invite", message: "invite token is required" },
    ]);
    expect(filled("register").problems()).toEqual([]);
  });

  test("a server without a scheme: http:// for this machine's host and port, any other host must spell it out", () => {
    expect(serverUrl("localhost:8080")).toBe("http://localhost:8080");
    expect(serverUrl(" 127.0.0.1:8080 ")).toBe("http://127.0.0.1:8080");
    expect(serverUrl("[::1]:8080")).toBe("http://[::1]:8080");
    expect(serverUrl("http://chat.example.org")).toBe("http://chat.example.org");
    const f = filled("login");
    f.set("server", "localhost:8080");
    expect(f.validate()).toBeUndefined();
    expect(f.values().server).toBe("http://localhost:8080");
    // Never a guess that would send the password in clear to another machine.
    for (const other of ["chat.example.org:8080", "localhost.example.org:80", "localhost"]) {
      f.set("server", other);
      expect(f.validate()).toMatch(/^server url must start with http:\/\/ or https:\/\//);
    }
  });

  test("login does not check confirm or invite", () => {
    const f = filled("login");
    f.set("confirm", "different");
    f.set("invite", "");
    expect(f.validate()).toBeUndefined();
  });

  test("skipCredentials checks everything but the username and password", () => {
    const f = filled("login");
    f.set("username", "");
    f.set("password", "");
    expect(f.validate({ skipCredentials: true })).toBeUndefined();
    f.set("passphrase", "short");
    expect(f.validate({ skipCredentials: true })).toBe("keystore passphrase must be at least 8 characters");
  });

  test("the username length counts characters after NFKC and trimming, like the server", () => {
    const f = filled();
    f.set("username", "  ab  ");
    expect(f.validate()).toBeUndefined();
    f.set("username", "ﬀ"); // NFKC: "ff", two characters
    expect(f.validate()).toBeUndefined();
  });
});
