// gRPC server reflection (grpc.reflection.v1 and v1alpha): lets buf curl, grpcurl and other
// tools list and call the services without a copy of proto/. It describes only the public schema,
// so it needs no session (server/http/gate.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ServerReflectionRequest,
  type ServerReflectionRequestSchema,
  type ServerReflectionResponseSchema,
  ServerReflection,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  type ServerReflectionResponseSchema as ServerReflectionResponseSchemaV1Alpha,
  ServerReflection as ServerReflectionV1Alpha,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { SchemaIndex } from "../domain/schema-index.js";

/** gRPC's NOT_FOUND, in ErrorResponse.error_code. */
const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;

type Response = MessageInitShape<typeof ServerReflectionResponseSchema>;
type Answer = Response["messageResponse"];

/** One answer per question, in order. */
async function* respond(index: SchemaIndex, requests: AsyncIterable<ServerReflectionRequest>): AsyncIterable<Response> {
  for await (const req of requests) {
    yield { validHost: req.host, originalRequest: plain(req), messageResponse: answer(index, req) };
  }
}

/** Server reflection v1, and v1alpha (the older name of the same messages, field for field). */
export function reflectionServices(index: SchemaIndex): {
  v1: ServiceImpl<typeof ServerReflection>;
  v1alpha: ServiceImpl<typeof ServerReflectionV1Alpha>;
} {
  return {
    v1: { serverReflectionInfo: (requests) => respond(index, requests) },
    // Plain initialisers (no $typeName) build a message of either package alike.
    v1alpha: {
      serverReflectionInfo: (requests) =>
        respond(index, requests as unknown as AsyncIterable<ServerReflectionRequest>) as unknown as AsyncIterable<
          MessageInitShape<typeof ServerReflectionResponseSchemaV1Alpha>
        >,
    },
  };
}

export const REFLECTION_SERVICES = [ServerReflection, ServerReflectionV1Alpha] as const;

/** The request as a plain initialiser, to echo under either package. */
function plain(req: ServerReflectionRequest): MessageInitShape<typeof ServerReflectionRequestSchema> {
  const q = req.messageRequest;
  if (q.case === "fileContainingExtension") {
    return {
      host: req.host,
      messageRequest: { case: q.case, value: { containingType: q.value.containingType, extensionNumber: q.value.extensionNumber } },
    };
  }
  return { host: req.host, messageRequest: q.case === undefined ? { case: undefined } : { case: q.case, value: q.value } };
}

function answer(index: SchemaIndex, req: ServerReflectionRequest): Answer {
  const files = (found: Uint8Array[] | undefined, what: string): Answer =>
    found
      ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: found } }
      : { case: "errorResponse", value: { errorCode: NOT_FOUND, errorMessage: `${what} not found` } };
  const q = req.messageRequest;
  switch (q.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.serviceNames.map((name) => ({ name })) } };
    case "fileByFilename":
      return files(index.fileByName(q.value), `file ${q.value}`);
    case "fileContainingSymbol":
      return files(index.fileContainingSymbol(q.value), `symbol ${q.value}`);
    case "fileContainingExtension":
      return { case: "errorResponse", value: { errorCode: NOT_FOUND, errorMessage: "the schema defines no extensions" } };
    case "allExtensionNumbersOfType":
      return index.fileContainingSymbol(q.value)
        ? { case: "allExtensionNumbersResponse", value: { baseTypeName: q.value, extensionNumber: [] } }
        : { case: "errorResponse", value: { errorCode: NOT_FOUND, errorMessage: `type ${q.value} not found` } };
    default:
      return { case: "errorResponse", value: { errorCode: UNIMPLEMENTED, errorMessage: "unknown request" } };
  }
}
