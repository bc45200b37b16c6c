/**
 * The "Security" phase: names the gateway must never forward (unknown service, unknown
 * datacenter, foreign trust domain, its own datacenter, peered and prepared-query names, no SNI)
 * and plain HTTP on the data port: every connection closed with nothing sent back, and not a byte
 * at any backend, as the backends count them. The ACL token check is {@link TokenWitness}'s.
 */
import { renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gatewaySni, serviceSni } from "../../mesh/model/sni";
import { syntheticHello } from "../../test/gateway/helpers";
import { checkList, formatCount, type Check } from "../check";
import { FUZZ_TRUST_DOMAIN as TD } from "../fuzz/fuzz-table";
import { Backends, startClients } from "../load/backends";
import { ECHO_SNI } from "../load/routes-file";
import { SoakGateway } from "../load/soak-gateway";
import type { SoakSettings } from "../settings";
import type { TokenWitness } from "./token-witness";

const HOST = "127.0.1.3";

/** A ClientHello without a server_name extension. */
function helloWithoutSni(): Buffer {
  const hello = syntheticHello("x");
  // syntheticHello's layout: record (5), handshake header (4), version + random (34), session id,
  // cipher suites and compression (7), extensions length (2), then the one extension.
  const withoutExtensions = hello.subarray(0, 5 + 4 + 34 + 7);
  const out = Buffer.from(withoutExtensions);
  out.writeUInt16BE(out.length - 5, 3);
  out.writeUIntBE(out.length - 9, 6, 3);
  return out;
}

/** What must be refused, each as the bytes a client sends. */
const REFUSED: Array<[string, Buffer]> = [
  ["unknown service", syntheticHello(serviceSni({ service: "nope", datacenter: "dc1", trustDomain: TD }))],
  ["unknown datacenter", syntheticHello(serviceSni({ service: "echo", datacenter: "dc9", trustDomain: TD }))],
  [
    "foreign trust domain",
    syntheticHello(
      serviceSni({ service: "echo", datacenter: "dc1", trustDomain: "11111111-2222-3333-4444-555555555555.consul" }),
    ),
  ],
  ["the gateway's own datacenter", syntheticHello(gatewaySni({ datacenter: "dc1", trustDomain: TD }))],
  ["a peered service", syntheticHello(`echo.default.default.peer1.external.${TD}`)],
  ["a prepared query", syntheticHello(`echo.default.dc1.query.${TD}`)],
  ["no SNI", helloWithoutSni()],
  ["HTTP/1.1 GET", Buffer.from("GET / HTTP/1.1\r\nHost: gateway\r\n\r\n")],
  ["HTTP/2 preface", Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")],
  ["HTTP CONNECT", Buffer.from(`CONNECT ${ECHO_SNI}:443 HTTP/1.1\r\nHost: ${ECHO_SNI}\r\n\r\n`)],
];

/**
 * Runs the phase.
 * @param settings the run's sizes.
 * @param witness the token gateway, started before what it must live through, or why it did not start. Default: none.
 */
export async function securityPhase(settings: SoakSettings, witness?: TokenWitness | Error): Promise<Check[]> {
  const list = checkList("Security");
  const backends = Backends.start(settings.workDir);
  const stops: Array<() => Promise<unknown>> = [() => backends.stop()];
  try {
    const [local, remote] = await Promise.all([backends.listen("127.0.5.1"), backends.listen("127.0.5.2")]);
    const routesFile = path.join(settings.workDir, "security-routes.json");
    const routes = {
      datacenter: "dc1",
      trustDomain: TD,
      services: [{ name: "echo", endpoints: [local] }],
      gateways: [{ datacenter: "dc2", endpoints: [remote] }],
    };
    writeFileSync(`${routesFile}.next`, JSON.stringify(routes));
    renameSync(`${routesFile}.next`, routesFile);
    const gateway = await SoakGateway.start({
      name: "security-gateway",
      workDir: settings.workDir,
      host: HOST,
      routes: ["--routes", routesFile],
    });
    stops.unshift(() => gateway.stop());
    const clients = startClients(settings.workDir, HOST, gateway.port, ECHO_SNI);
    stops.unshift(() => clients.stop());
    const each = settings.quick ? 20 : 200;
    const results: string[] = [];
    let allClosed = true;
    let returned = 0;
    for (const [what, bytes] of REFUSED) {
      const r = await clients.call<{ stillOpen: number; received: number; maxMs: number }>({
        type: "refused",
        count: each,
        parallel: 50,
        bytes: bytes.toString("base64"),
      });
      allClosed &&= r.stillOpen === 0;
      returned += r.received;
      results.push(`${what} ${r.stillOpen === 0 ? "closed" : `${r.stillOpen} left open`}`);
    }
    const stats = await backends.stats();
    const rejected = await gateway.metric("sni_gateway_connections_total", { result: "rejected" });
    list.add(
      "refused names and plain HTTP: connections closed, bytes back, bytes at any backend",
      `${formatCount(each)} each of ${results.join(", ")}; ${returned} bytes back; ${stats.bytes} bytes and ${Object.values(stats.accepted).reduce((a, b) => a + b, 0)} connections at the backends; ${formatCount(rejected)} counted rejected`,
      "all closed, 0 bytes back, 0 bytes and 0 connections at the backends, all counted",
      allClosed && returned === 0 && stats.bytes === 0 && rejected === each * REFUSED.length,
    );
    // The same gateway forwards what it should: the refusals above are not a dead gateway.
    const churn = await clients.call<{ ok: number }>({ type: "churn", count: 20, parallel: 5 });
    list.add("the same gateway forwards a routed name", `${churn.ok} of 20 echoed`, "20 of 20", churn.ok === 20);
    if (witness instanceof Error)
      list.add("the ACL token gateway started", `no: ${witness.message.split("\n")[0]}`, "yes", false);
    else if (witness) await witness.check(list);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
  return list.checks;
}
