/**
 * Defects the soak's fuzzer found (`npm run soak`, phase "Bad input"), each pinned by a test, and
 * every input it ever kept in `soak/corpus/crashers/` replayed through its checks.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ClientHelloReader, HelloResult } from "../../gateway/net/client-hello";
import { route } from "../../gateway/routing/router";
import { routeTableFromRoutesFile } from "../../gateway/routing/route-table";
import type { FuzzCase } from "../../soak/fuzz/cases";
import { checkCase } from "../../soak/fuzz/oracle";

const TD = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";

function read(chunks: Buffer[]): HelloResult {
  const reader = new ClientHelloReader();
  let result: HelloResult = reader.state;
  for (const chunk of chunks) result = reader.push(chunk);
  return result;
}

describe("the refusal reason does not depend on how the bytes are cut", () => {
  test.each([
    ["an empty record", Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00, 0x02, 0x00])],
    ["a record over 2^14 bytes", Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01, 0x02, 0x00])],
  ])("%s followed by a byte that is not ClientHello's type is malformed, in one push or two", (_what, bytes) => {
    expect(read([bytes])).toEqual({ status: "error", reason: "malformed" });
    expect(read([bytes.subarray(0, 5), bytes.subarray(5)])).toEqual({ status: "error", reason: "malformed" });
  });

  test("a good record header followed by another handshake type is still not-client-hello at once", () => {
    expect(read([Buffer.from([0x16, 0x03, 0x03, 0x00, 0x40, 0x02])])).toEqual({
      status: "error",
      reason: "not-client-hello",
    });
  });
});

describe("the router refuses names no ClientHello can carry", () => {
  const table = routeTableFromRoutesFile({
    datacenter: "dc1",
    trustDomain: TD,
    services: [{ name: "kv", endpoints: [{ address: "10.0.0.1", port: 1 }] }],
    gateways: [{ datacenter: "dc2", endpoints: [{ address: "10.0.0.2", port: 2 }] }],
  });

  test("KELVIN SIGN (U+212A), which lower-cases to 'k', routes nowhere", () => {
    expect(route(`kv.default.dc1.internal.${TD}`, table, "dc1", TD)).toMatchObject({ kind: "local" });
    expect(route(`\u212av.default.dc1.internal.${TD}`, table, "dc1", TD)).toEqual({
      kind: "reject",
      reason: "unsupported-name",
    });
    expect(route(`a.\u212aapi.default.dc2.internal.${TD}`, table, "dc1", TD)).toEqual({
      kind: "reject",
      reason: "unsupported-name",
    });
  });
});

describe("every input the soak kept", () => {
  const dir = path.join(__dirname, "../../soak/corpus/crashers");
  const files = readdirSync(dir).filter((f) => f.endsWith(".bin") || f.endsWith(".name"));

  test("there are some (the corpus is in the repository)", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  test.each(files)("%s passes every check of the fuzzer", (file) => {
    const content = readFileSync(path.join(dir, file));
    const fuzzCase: FuzzCase = file.endsWith(".name")
      ? { strategy: "router-name", name: content.toString("utf8") }
      : { strategy: "regression", input: content, chunks: [] };
    expect(checkCase(fuzzCase)).toBeUndefined();
  });
});
