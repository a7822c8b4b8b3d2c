import type { ServiceImpl } from "@connectrpc/connect";
import type { DeviceService } from "../../gen/dialtone/v1/device_service_pb.js";
import type { Deps } from "../domain/deps.js";
import * as devices from "../domain/devices.js";
import { toDevice } from "../domain/wire.js";
import { requireCaller } from "../http/context.js";

export function deviceService(deps: Deps): ServiceImpl<typeof DeviceService> {
  return {
    async listDevices(req, ctx) {
      requireCaller(ctx);
      return { devices: (await devices.listDevices(deps, req)).map(toDevice) };
    },
    async revokeDevice(req, ctx) {
      await devices.revokeDevice(deps, requireCaller(ctx), req);
      return {};
    },
  };
}
