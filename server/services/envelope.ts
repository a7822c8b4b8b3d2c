import type { ServiceImpl } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EnvelopeService } from "../../gen/dialtone/v1/envelope_service_pb.js";
import type { Deps } from "../domain/deps.js";
import * as envelopes from "../domain/envelopes.js";
import { requireCaller } from "../http/context.js";

export function envelopeService(deps: Deps): ServiceImpl<typeof EnvelopeService> {
  return {
    async putEnvelopes(req, ctx) {
      return envelopes.putEnvelopes(deps, requireCaller(ctx), req.envelopes);
    },
    async listEnvelopes(req, ctx) {
      const rows = await envelopes.listEnvelopes(deps, requireCaller(ctx), req);
      return {
        envelopes: rows.map((r) => ({
          kind: r.kind,
          scopeId: r.scopeId,
          epoch: r.epoch,
          recipientDeviceId: r.recipientDeviceId,
          senderDeviceId: r.senderDeviceId,
          senderPublicKey: r.sender.publicKey,
          senderUserId: r.sender.userId,
          ciphertext: r.ciphertext,
          createdAt: timestampFromDate(r.createdAt),
        })),
      };
    },
    async listMissingEnvelopes(req, ctx) {
      return { missing: await envelopes.listMissingEnvelopes(deps, requireCaller(ctx), req) };
    },
    async acknowledgeEnvelopes(req, ctx) {
      return envelopes.acknowledgeEnvelopes(deps, requireCaller(ctx), req);
    },
  };
}
