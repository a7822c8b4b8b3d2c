// The public schema as server reflection serves it: every file the services are built from,
// by file name and by the symbols each defines, as serialized FileDescriptorProtos.
import { type DescFile, type DescMessage, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

export class SchemaIndex {
  /** File name ("dialtone/v1/message.proto") → the file. */
  private readonly files = new Map<string, DescFile>();
  /** Fully-qualified service, method, message, enum or field name → its file. */
  private readonly symbols = new Map<string, DescFile>();
  private readonly encoded = new Map<DescFile, Uint8Array>();
  readonly serviceNames: readonly string[];

  constructor(services: readonly DescService[]) {
    this.serviceNames = services.map((s) => s.typeName);
    for (const s of services) this.addFile(s.file);
  }

  /** The file of that name and every file it imports, directly or not; undefined if unknown. */
  fileByName(name: string): Uint8Array[] | undefined {
    const file = this.files.get(name);
    return file && this.withImports(file);
  }

  /** The file defining a fully-qualified symbol, with its imports; undefined if unknown. */
  fileContainingSymbol(symbol: string): Uint8Array[] | undefined {
    const file = this.symbols.get(symbol.replace(/^\./, ""));
    return file && this.withImports(file);
  }

  private withImports(file: DescFile): Uint8Array[] {
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const d of f.dependencies) visit(d);
    };
    visit(file);
    // The asked-for file first, as gRPC's own servers answer.
    return [file, ...[...seen].filter((f) => f !== file)].map((f) => this.encode(f));
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes) this.encoded.set(file, (bytes = toBinary(FileDescriptorProtoSchema, file.proto)));
    return bytes;
  }

  private addFile(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const d of file.dependencies) this.addFile(d);
    for (const e of file.enums) this.symbols.set(e.typeName, file);
    for (const m of file.messages) this.addMessage(m, file);
    for (const s of file.services) {
      this.symbols.set(s.typeName, file);
      for (const m of s.methods) this.symbols.set(`${s.typeName}.${m.name}`, file);
    }
  }

  private addMessage(m: DescMessage, file: DescFile): void {
    this.symbols.set(m.typeName, file);
    for (const f of m.fields) this.symbols.set(`${m.typeName}.${f.name}`, file);
    for (const e of m.nestedEnums) this.symbols.set(e.typeName, file);
    for (const n of m.nestedMessages) this.addMessage(n, file);
  }
}
