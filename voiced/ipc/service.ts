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
  /** Called after Shutdown has answered. */
  onShutdown(): void;
}

export function voicedService(daemon: Daemon, info: ServiceInfo): ServiceImpl<typeof VoicedService> {
  return {
    async join(req) {
      await daemon.join(req);
      return {};
    },
    async leave() {
      await daemon.leave();
      return {};
    },
    setMuted(req) {
      daemon.setMuted(req.muted);
      return {};
    },
    async setPushToTalk(req) {
      await daemon.setPushToTalk(req.key);
      return {};
    },
    async *watchState(_req, ctx) {
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
      }
    },
    async shutdown() {
      await daemon.shutdown();
      setImmediate(() => info.onShutdown());
      return {};
    },
    getInfo() {
      return { pid: process.pid, version: VERSION, socketPath: info.socketPath, logFile: info.logFile, audioBackend: info.audioBackend };
    },
  };
}
