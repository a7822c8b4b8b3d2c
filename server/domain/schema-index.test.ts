import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { expect, test } from "@jest/globals";
import { REFLECTION_SERVICES } from "../services/reflection.js";
import { SERVICES } from "../connect.js";
import { SchemaIndex } from "./schema-index.js";

const index = new SchemaIndex([...SERVICES, ...REFLECTION_SERVICES]);
const names = (files: Uint8Array[] | undefined) => files?.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);

test("every service is listed, reflection's included", () => {
  expect(index.serviceNames).toEqual(expect.arrayContaining(["dialtone.v1.MessageService", "grpc.reflection.v1.ServerReflection"]));
  expect(index.serviceNames).toHaveLength(SERVICES.length + 2);
});

test("a symbol's file comes first, then every file it imports, transitively", () => {
  const files = names(index.fileContainingSymbol("dialtone.v1.AdminService.ListUsers"));
  expect(files?.[0]).toBe("dialtone/v1/admin_service.proto");
  expect(files).toEqual(expect.arrayContaining(["google/protobuf/timestamp.proto"]));
  expect(new Set(files).size).toBe(files?.length);
  // Services, methods, messages, nested types, enums and fields all resolve; a leading dot too.
  for (const symbol of [
    "dialtone.v1.MessageService",
    ".dialtone.v1.Message",
    "dialtone.v1.Message.message_id",
    "grpc.reflection.v1alpha.ErrorResponse",
  ]) {
    expect(index.fileContainingSymbol(symbol)).toBeDefined();
  }
});

test("files by name; unknown names and symbols are not found", () => {
  expect(names(index.fileByName("dialtone/v1/message.proto"))?.[0]).toBe("dialtone/v1/message.proto");
  expect(index.fileByName("dialtone/v1/nope.proto")).toBeUndefined();
  expect(index.fileContainingSymbol("dialtone.v1.Nope")).toBeUndefined();
  // The serialized descriptor is complete enough to rebuild the service: methods and their types.
  const file = fromBinary(FileDescriptorProtoSchema, index.fileByName("dialtone/v1/message_service.proto")![0]!);
  const send = file.service[0]!.method.find((m) => m.name === "SendMessage");
  expect(send?.inputType).toBe(".dialtone.v1.SendMessageRequest");
});
