// The items of a Subscribe stream other than events: the hello that opens it and the
// heartbeat of an idle one.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { SubscribeResponseSchema } from "../../../gen/dialtone/v1/event_service_pb.js";
import type { Subscription } from "../../domain/subscriptions.js";

export type Item = MessageInitShape<typeof SubscribeResponseSchema>;

export function hello(s: Subscription, heartbeatSeconds: number, now: Date): Item {
  return {
    item: {
      case: "hello",
      value: { streamId: s.stream.id, headSeq: s.head, heartbeatIntervalSeconds: heartbeatSeconds, serverTime: timestampFromDate(now) },
    },
  };
}

export function heartbeat(at: Date): Item {
  return { item: { case: "heartbeat", value: { serverTime: timestampFromDate(at) } } };
}
