// Views shared by the CLI and the UI: pure functions from client/core's data to lines of text.
export { accountLines } from "./accounts.js";
export { deviceFlags, deviceLine } from "./devices.js";
export type { CommandHints } from "./hints.js";
export {
  RESYNC_NOTICE,
  adminChangedNotice,
  userRemovedNotice,
  channelCreatedNotice,
  channelDeletedNotice,
  channelRef,
  channelRenamedNotice,
  deviceAddedNotice,
  deviceRevokedNotice,
  identityNotice,
  keysWithheldNotice,
  trustNotice,
  isNewDeviceNews,
  keyChangeRefusedNotice,
  keyRejectedNotice,
  userJoinedNotice,
  type Notice,
  type NoticeLevel,
} from "./notices.js";
export { bodyText, senderText, unopenedBody } from "./messages.js";
export { safetyNumberLines } from "./safety.js";
export { MESH_COMFORTABLE_PEOPLE, MeshSizeWatch, meshSizeNotice } from "./mesh.js";
export { dayAndTime, searchHitLine, searchSummary } from "./search.js";
