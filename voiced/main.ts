// dialtone-voiced entry point: flags → logger → daemon (werift, Opus, audio backend, portal) →
// VoicedService on the Unix socket. The only file that listens or touches process globals.
import { createServer } from "node:http";
import { HELP, parseConfig, settingsOf, UsageError, VERSION, type VoicedConfig } from "./config.js";
import { defaultSocketPath, listenExclusive } from "./ipc/socket.js";
import { UseTracker } from "./lifetime.js";
import { createLogger } from "./log.js";
import { RoomStatus } from "./state.js";

/** What only a running daemon needs (werift, Opus, audio, D-Bus, the RPC stack): --help, --version
 * and a flag error never load it (test/package.test.ts checks which modules --help loads). */
async function daemonModules() {
  const [connect, gen, select, rnnoise, opus, daemon, service, dbus, turn, werift] = await Promise.all([
    import("@connectrpc/connect-node"),
    import("../gen/dialtone/voiced/v1/voiced_service_pb.js"),
    import("./audio/select.js"),
    import("./audio/rnnoise.js"),
    import("./codec/opus.js"),
    import("./daemon.js"),
    import("./ipc/service.js"),
    import("./ptt/dbus.js"),
    import("./rtc/turn.js"),
    import("./rtc/werift-peer.js"),
  ]);
  return {
    connectNodeAdapter: connect.connectNodeAdapter,
    VoicedService: gen.VoicedService,
    audioBackend: select.audioBackend,
    rnnoiseDenoiser: rnnoise.rnnoiseDenoiser,
    opusCodec: opus.opusCodec,
    Daemon: daemon.Daemon,
    voicedService: service.voicedService,
    openPortalBus: dbus.openPortalBus,
    probeStun: turn.probeStun,
    probeTurn: turn.probeTurn,
    weriftPeerFactory: werift.weriftPeerFactory,
  };
}

async function main(): Promise<number> {
  let config: VoicedConfig | "help" | "version";
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`dialtone-voiced: ${err.message}\n(see dialtone-voiced --help)\n`);
    return 2;
  }
  if (config === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (config === "version") {
    process.stdout.write(`dialtone-voiced ${VERSION}\n`);
    return 0;
  }
  const {
    connectNodeAdapter,
    VoicedService,
    audioBackend,
    rnnoiseDenoiser,
    opusCodec,
    Daemon,
    voicedService,
    openPortalBus,
    probeStun,
    probeTurn,
    weriftPeerFactory,
  } = await daemonModules();
  const socketPath = config.socketPath ?? defaultSocketPath();
  const log = createLogger({ level: config.debug ? "debug" : "info", ...(config.logFile ? { file: config.logFile } : {}) });

  const daemon = new Daemon({
    config,
    log,
    peerFactory: weriftPeerFactory,
    codec: opusCodec(),
    backend: audioBackend(config.audioBackend),
    openPortalBus: () => openPortalBus(),
    denoiser: rnnoiseDenoiser,
    env: process.env,
    probes: { turn: (t) => probeTurn(t), stun: (s) => probeStun(s) },
  });

  let stopping = false;
  let release = () => {};
  // Started by a client: gone once it is in no room and no client watches it (docs/VOICE.md).
  const uses = config.exitWhenUnused
    ? new UseTracker({
        graceMs: 1500,
        startGraceMs: 15_000,
        idle: () => daemon.state.current.status === RoomStatus.IDLE,
        onUnused: () => void stop("unused: in no voice room and no client watching"),
      })
    : undefined;
  if (uses) daemon.state.watch(() => uses.check());
  const server = createServer(
    connectNodeAdapter({
      routes: (router) =>
        router.service(
          VoicedService,
          voicedService(daemon, {
            socketPath,
            logFile: config.logFile ?? "",
            audioBackend: config.audioBackend,
            settings: settingsOf(config),
            exitsWhenUnused: config.exitWhenUnused,
            hold: () => uses?.hold() ?? (() => {}),
            onShutdown: () => void stop("shutdown requested"),
          }),
        ),
    }),
  );
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    uses?.stop();
    log.info("stopping", { reason: why });
    await daemon.shutdown().catch(() => {});
    release();
    server.closeAllConnections();
    server.close();
    process.exit(0);
  };

  const listening = await listenExclusive(server, socketPath);
  if (listening.kind === "running") {
    process.stdout.write(`dialtone-voiced is already running on ${socketPath}: reusing it\n`);
    return 0;
  }
  release = listening.release;
  // werift throws from timers and socket callbacks now and then (a peer that vanished): one bad
  // peer must not end everyone's call, so these are logged and the daemon goes on.
  process.on("unhandledRejection", (err) => log.warn("unhandled rejection", { error: err instanceof Error ? err.message : String(err) }));
  process.on("uncaughtException", (err) =>
    log.error("uncaught exception", { error: err.message, stack: err.stack?.split("\n").slice(0, 4).join(" | ") }),
  );
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  log.info("starting voice daemon", {
    version: VERSION,
    pid: process.pid,
    socket: socketPath,
    audio: config.audioBackend,
    ptt: config.pttKey,
    ptt_backend: config.pttBackend,
    vad_threshold: config.vadThreshold,
    denoise: config.denoise,
    relay_only: config.relayOnly,
    meter: config.meter,
    exit_when_unused: config.exitWhenUnused,
    ...(config.recordPath ? { record: config.recordPath } : {}),
  });
  await daemon.init();
  process.stdout.write(`dialtone-voiced listening on ${socketPath}\n`);
  return -1; // keep running
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`dialtone-voiced: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
