// deploy/ and .env.example: what can be checked without a Docker engine or a systemd
// PID 1. The compose file parses and has its three services with health checks; the
// Dockerfile is multi-stage on node:20-bookworm-slim with npm ci, a non-root user and a
// HEALTHCHECK on /healthz; the systemd units pass `systemd-analyze verify`; .env.example
// documents every variable server/config.ts reads, with the defaults it applies.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "@jest/globals";
import { loadConfig } from "../server/config.js";
import { REPO } from "./support/process.js";

const run = promisify(execFile);
const read = (p: string) => readFileSync(path.join(REPO, p), "utf8");

describe("deploy/compose.yaml", () => {
  type Service = {
    image?: string;
    build?: { dockerfile: string };
    healthcheck?: { test: string[] };
    command?: string[];
    depends_on?: Record<string, { condition: string }>;
    environment?: Record<string, string>;
    ports?: string[];
  };
  let compose: { services: Record<string, Service> };

  test("parses as YAML (python3-yaml) with postgres, coturn and the server, each health-checked", async () => {
    const py = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))";
    let stdout: string;
    try {
      ({ stdout } = await run("/usr/bin/python3", ["-c", py, path.join(REPO, "deploy/compose.yaml")]));
    } catch (err) {
      throw new Error(`YAML check needs Debian's python3 and python3-yaml (apt-get install -y python3-yaml): ${(err as Error).message}`);
    }
    compose = JSON.parse(stdout) as typeof compose;
    expect(Object.keys(compose.services).sort()).toEqual(["coturn", "postgres", "server"]);
    for (const [name, s] of Object.entries(compose.services)) expect([name, (s.healthcheck?.test?.length ?? 0) > 1]).toEqual([name, true]);
    const { server, coturn } = compose.services;
    expect(server!.build!.dockerfile).toBe("deploy/Dockerfile");
    expect(server!.depends_on!.postgres!.condition).toBe("service_healthy");
    expect(server!.environment!.DIALTONE_DB_URL).toMatch(/^postgres:\/\/dialtone:.*@postgres:5432\/dialtone$/);
    expect(server!.healthcheck!.test.join(" ")).toContain("/healthz");
    expect(coturn!.command).toEqual(expect.arrayContaining([expect.stringMatching(/^--static-auth-secret=\$\{DIALTONE_TURN_SECRET/)]));
    expect(coturn!.command).toEqual(expect.arrayContaining([expect.stringMatching(/^--min-port=/), expect.stringMatching(/^--max-port=/)]));
    // The mounted coturn config uses REST credentials, and has the optional TLS listener.
    const turn = read("deploy/coturn/turnserver.conf");
    expect(turn).toMatch(/^use-auth-secret$/m);
    expect(turn).toMatch(/^# tls-listening-port=5349$/m);
    expect(turn).not.toMatch(/^(user|lt-cred-mech)(=|$)/m);
  });
});

describe("deploy/Dockerfile", () => {
  const lines = read("deploy/Dockerfile")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));
  const stages = lines.filter((l) => l.startsWith("FROM "));

  test("multi-stage on node:20-bookworm-slim, npm ci, non-root, HEALTHCHECK on /healthz", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s).toMatch(/^FROM node:20-bookworm-slim\b/);
    expect(lines.some((l) => /^RUN npm ci\b/.test(l))).toBe(true);
    expect(lines.some((l) => /^COPY --from=build /.test(l))).toBe(true);
    const user = lines.filter((l) => l.startsWith("USER ")).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)\b/);
    const health = lines.findIndex((l) => l.startsWith("HEALTHCHECK "));
    expect(lines.slice(health, health + 2).join(" ")).toContain("/healthz");
    expect(lines.find((l) => l.startsWith("ENTRYPOINT "))).toContain("bin/dialtone-server.js");
  });

  test("every COPY source is let through by deploy/Dockerfile.dockerignore", () => {
    const allowed = read("deploy/Dockerfile.dockerignore")
      .split("\n")
      .filter((l) => l.startsWith("!"))
      .map((l) => l.slice(1).replace(/\/\*\*$/, ""));
    const sources = lines.filter((l) => l.startsWith("COPY ") && !l.includes("--from=")).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const src of sources)
      expect([src, allowed.some((a) => src === a || src.startsWith(`${a}/`) || a.startsWith(`${src}/`))]).toEqual([src, true]);
  });
});

describe("deploy/systemd", () => {
  test.each(["dialtone-server.service", "dialtone-coturn.service"])("%s passes systemd-analyze verify and is hardened", async (unit) => {
    const file = path.join(REPO, "deploy/systemd", unit);
    let result: { stdout: string; stderr: string };
    try {
      result = await run("systemd-analyze", ["verify", file]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === "ENOENT") throw new Error("systemd-analyze not found: apt-get install -y systemd");
      throw new Error(`systemd-analyze verify ${unit} failed:\n${e.stderr}`);
    }
    expect(result.stderr).toBe("");
    const text = readFileSync(file, "utf8");
    for (const setting of [
      "ProtectSystem=strict",
      "NoNewPrivileges=yes",
      "PrivateTmp=yes",
      "ProtectHome=yes",
      "RestrictAddressFamilies=",
    ]) {
      expect([unit, text.includes(`\n${setting}`)]).toEqual([unit, true]);
    }
    expect(text).toMatch(/^(DynamicUser=yes|User=(dialtone|turnserver))$/m);
  });
});

describe(".env.example", () => {
  const example = read(".env.example");
  const values = Object.fromEntries(
    example
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );

  test("documents every variable server/config.ts reads", () => {
    const read = [...new Set(readFileSync(path.join(REPO, "server/config.ts"), "utf8").match(/DIALTONE_[A-Z0-9_]+/g))];
    expect(read.length).toBeGreaterThan(10);
    for (const v of read) expect([v, new RegExp(`^(# )?${v}=`, "m").test(example)]).toEqual([v, true]);
    // each with a comment stating its default
    for (const v of Object.keys(values).filter((k) => k.startsWith("DIALTONE_") && k !== "DIALTONE_TLS_KEY")) {
      const before = example.slice(0, example.indexOf(`\n${v}=`));
      expect([v, /Default: [^\n]+/.test(before.slice(before.lastIndexOf("\n\n")))]).toEqual([v, true]);
    }
  });

  test("its values are the defaults loadConfig applies", () => {
    const env = { HOME: "/home/someone" };
    const fromExample = loadConfig({ ...values, ...env });
    expect(fromExample).toEqual(loadConfig(env));
    expect(fromExample.listenPort).toBe(8080);
    expect(fromExample.turnTtlSeconds).toBe(21600);
  });
});
