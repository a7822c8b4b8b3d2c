import type { ServiceImpl } from "@connectrpc/connect";
import type { IdentityService } from "../../gen/dialtone/v1/identity_service_pb.js";
import type { Deps } from "../domain/deps.js";
import * as identities from "../domain/identities.js";
import * as backups from "../domain/key-backups.js";
import * as statements from "../domain/key-statements.js";
import { toAdmission, toIdentity, toKeyStatement } from "../domain/wire.js";
import { requireCaller } from "../http/context.js";

export function identityService(deps: Deps): ServiceImpl<typeof IdentityService> {
  return {
    async publishIdentity(req, ctx) {
      return { identity: toIdentity(await identities.publishIdentity(deps, requireCaller(ctx), req)) };
    },
    async getRoot() {
      // No session: a client checks the invite's root fingerprint before its account exists.
      return { root: toIdentity(await identities.getRoot(deps)) };
    },
    async listIdentities(req, ctx) {
      requireCaller(ctx);
      return { identities: (await identities.listIdentities(deps, req)).map(toIdentity) };
    },
    async certifyDevice(req, ctx) {
      await identities.certifyDevice(deps, requireCaller(ctx), req);
      return {};
    },
    async admit(req, ctx) {
      return { admission: toAdmission(await identities.admit(deps, requireCaller(ctx), req)) };
    },
    async putKeyStatements(req, ctx) {
      return { stored: await statements.putKeyStatements(deps, requireCaller(ctx), req.statements) };
    },
    async listKeyStatements(req, ctx) {
      requireCaller(ctx);
      return { statements: (await statements.listKeyStatements(deps, req)).map(toKeyStatement) };
    },
    async getKeyBackup(_req, ctx) {
      return backups.getKeyBackup(deps, requireCaller(ctx));
    },
    async putKeyBackup(req, ctx) {
      return { version: await backups.putKeyBackup(deps, requireCaller(ctx), req) };
    },
  };
}
