// Where a binary protobuf message fails to decode: the path of the first field at fault
// ("device.public_key", "statements[2].signature") and why. Runs only after a decode failed, so
// it may walk the message a second time.
import { type DescField, type DescMessage, fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** Why `bytes` are not a `schema` message, naming the field; undefined when they decode. */
export function diagnoseDecode(schema: DescMessage, bytes: Uint8Array): string | undefined {
  try {
    fromBinary(schema, bytes, { readUnknownFields: false });
    return undefined;
  } catch (err) {
    return locate(schema, bytes, "", err);
  }
}

function locate(schema: DescMessage, bytes: Uint8Array, prefix: string, err: unknown): string {
  const reader = new BinaryReader(bytes);
  const seen = new Map<number, number>();
  const at = (field: DescField | undefined, fieldNo: number) => {
    const name = field ? field.name : `field ${fieldNo}`;
    const index = field?.fieldKind === "list" ? `[${seen.get(fieldNo) ?? 0}]` : "";
    return prefix ? `${prefix}.${name}${index}` : `${name}${index}`;
  };
  while (reader.pos < reader.len) {
    const start = reader.pos;
    let fieldNo: number;
    let wireType: WireType;
    try {
      [fieldNo, wireType] = reader.tag();
    } catch (e) {
      return `${prefix || "request"}: a malformed field tag (${reason(e)})`;
    }
    const field = schema.fields.find((f) => f.number === fieldNo);
    try {
      reader.skip(wireType, fieldNo);
    } catch (e) {
      return `${at(field, fieldNo)}: ${reason(e)}`;
    }
    if (!field) continue;
    const slice = bytes.subarray(start, reader.pos);
    try {
      fromBinary(schema, slice, { readUnknownFields: false });
    } catch (e) {
      const inner = nestedMessage(field);
      if (inner && wireType === WireType.LengthDelimited) {
        const r = new BinaryReader(slice);
        r.tag();
        const payload = r.bytes();
        // A packed or map entry is not a message of `inner`: name the field itself.
        if (field.fieldKind !== "map") return locate(inner, payload, at(field, fieldNo), e);
      }
      return `${at(field, fieldNo)}: ${reason(e)}`;
    }
    seen.set(fieldNo, (seen.get(fieldNo) ?? 0) + 1);
  }
  return `${prefix || "request"}: ${reason(err)}`;
}

function nestedMessage(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  return undefined;
}

/** protobuf-es's error, in the words an API user needs. */
function reason(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  if (/utf-?8|encoded data was not valid/i.test(m)) return "not valid UTF-8";
  if (/premature EOF|out of range|index out of range/i.test(m)) return "cut short (the message ends inside this field)";
  if (/wire type/i.test(m)) return "wrong wire type";
  if (/overflow|invalid varint/i.test(m)) return "a malformed varint";
  return "cannot be decoded";
}
