// VoicedService over the daemon: thin handlers that validate nothing themselves (the daemon
// does) and turn the state store into the WatchState stream.
import type { ServiceImpl } from "@connectrpc/connect";
import type { VoicedService, WatchStateResponse } from "../../gen/dialtone/voiced/v1/voiced_service_pb.js";
import { VERSION } from "../config.js";
import type { Daemon } from "../daemon.js";

export interface ServiceInfo {
  socketPath: string;
  logFile: string;
  audioBackend: string;
  /** GetInfo's settings: the command line's, by flag name. */
  settings: Record<string, string>;
  exitsWhenUnused: boolean;
  /** Marks a client's use (a watch stream, a call) until the returned function runs. */
  hold(): () => void;
  /** Called after Shutdown has answered. */
  onShutdown(): void;
}

export function voicedService(daemon: Daemon, info: ServiceInfo): ServiceImpl<typeof VoicedService> {
  const using = async <T>(fn: () => Promise<T>): Promise<T> => {
    const release = info.hold();
    try {
      return await fn();
    } finally {
      release();
    }
  };
  return {
    async join(req) {
      await using(() => daemon.join(req));
      return {};
    },
    async leave() {
      await using(() => daemon.leave());
      return {};
    },
    setMuted(req) {
      daemon.setMuted(req.muted);
      return {};
    },
    setDeafened(req) {
      daemon.setDeafened(req.deafened);
      return {};
    },
    setVolumes(req) {
      daemon.setVolumes(req);
      return {};
    },
    async setPushToTalk(req) {
      await using(() => daemon.setPushToTalk(req.key));
      return {};
    },
    async *watchState(_req, ctx) {
      const release = info.hold();
      const queue: WatchStateResponse[] = [];
      let wake: (() => void) | undefined;
      const stop = daemon.state.watch((item) => {
        queue.push(item);
        wake?.();
      });
      const aborted = new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      try {
        while (!ctx.signal.aborted) {
          while (queue.length) yield queue.shift()!;
          await Promise.race([new Promise<void>((r) => (wake = r)), aborted]);
          wake = undefined;
        }
      } finally {
        stop();
        release();
      }
    },
    async shutdown() {
      await daemon.shutdown();
      setImmediate(() => info.onShutdown());
      return {};
    },
    getInfo() {
      return {
        pid: process.pid,
        version: VERSION,
        socketPath: info.socketPath,
        logFile: info.logFile,
        audioBackend: info.audioBackend,
        settings: info.settings,
        exitsWhenUnused: info.exitsWhenUnused,
      };
    },
  };
}
