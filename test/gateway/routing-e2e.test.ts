/**
 * End to end on 127.0.0.0/8: two gateways (dc1 on 127.0.0.2, dc2 on 127.0.0.3), TLS backends
 * whose certificates are valid only for their Consul SNI names, and clients that verify the
 * backend certificate through the gateways: proof that nothing terminates TLS on the way.
 */
import pino from "pino";
import { Writable } from "node:stream";
import tls from "node:tls";
import { startGateway, GatewayHandle } from "../../gateway";
import { StaticRouteSource } from "../../gateway/sources/static-route-source";
import type { RoutesFile } from "../../mesh/model/routes-file";
import { serviceSni, gatewaySni } from "../../mesh/model/sni";
import { createTestPki, TestPki } from "../../demo/pki";
import { httpGet, metricValue, rawExchange, startTlsBackend, TlsBackend, tlsRequest } from "./helpers";

const TD = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";
const WEB = serviceSni({ service: "web", datacenter: "dc1", trustDomain: TD });
const WEB_V2 = serviceSni({ service: "web", datacenter: "dc1", trustDomain: TD, subset: "v2" });
const API = serviceSni({ service: "api", datacenter: "dc2", trustDomain: TD });

let pki: TestPki;
let web: TlsBackend;
let webV2: TlsBackend;
let api: TlsBackend;
let gw1: GatewayHandle;
let gw2: GatewayHandle;
const logLines: Array<Record<string, unknown>> = [];

function capturingLogger() {
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logLines.push(JSON.parse(line));
      cb();
    },
  });
  return pino({ level: "info" }, stream);
}

function routes(dc: string, services: RoutesFile["services"], gateways: RoutesFile["gateways"]): RoutesFile {
  return { datacenter: dc, trustDomain: TD, services, gateways };
}

async function metrics(gw: GatewayHandle): Promise<string> {
  const res = await httpGet(`http://127.0.0.1:${gw.adminAddress?.port}/metrics`);
  expect(res.status).toBe(200);
  return res.body;
}

beforeAll(async () => {
  pki = await createTestPki();
  const [webCert, webV2Cert, apiCert] = await Promise.all([pki.issue([WEB]), pki.issue([WEB_V2]), pki.issue([API])]);
  web = await startTlsBackend("web", webCert.key, webCert.cert, "127.0.0.11");
  webV2 = await startTlsBackend("web-v2", webV2Cert.key, webV2Cert.cert, "127.0.0.12");
  api = await startTlsBackend("api", apiCert.key, apiCert.cert, "127.0.0.13");
  gw1 = await startGateway({
    datacenter: "dc1",
    listen: [{ host: "127.0.0.2", port: 0 }],
    admin: { host: "127.0.0.1", port: 0 },
    routes: { static: routes("dc1", [], []) },
    logger: capturingLogger(),
  });
  gw2 = await startGateway({
    datacenter: "dc2",
    listen: [{ host: "127.0.0.3", port: 0 }],
    admin: { host: "127.0.0.1", port: 0 },
    routes: { static: routes("dc2", [], []) },
    logLevel: "silent",
  });
  const gw1Port = gw1.listenAddresses[0].port;
  const gw2Port = gw2.listenAddresses[0].port;
  (gw1.source as StaticRouteSource).update(
    routes(
      "dc1",
      [
        { name: "web", endpoints: [{ address: web.host, port: web.port }] },
        { name: "web", subset: "v2", endpoints: [{ address: webV2.host, port: webV2.port }] },
      ],
      [{ datacenter: "dc2", endpoints: [{ address: "127.0.0.3", port: gw2Port }] }],
    ),
  );
  (gw2.source as StaticRouteSource).update(
    routes(
      "dc2",
      [{ name: "api", endpoints: [{ address: api.host, port: api.port }] }],
      [{ datacenter: "dc1", endpoints: [{ address: "127.0.0.2", port: gw1Port }] }],
    ),
  );
});

afterAll(async () => {
  await Promise.all([gw1?.close(0), gw2?.close(0)]);
  await Promise.all([web?.close(), webV2?.close(), api?.close()]);
  await pki?.cleanup();
});

describe("paths of the seed's per-upstream example, certificates verified end to end", () => {
  test("none: the client dials the destination directly (baseline)", async () => {
    const r = await tlsRequest(api.host, api.port, API, pki.caCert, "direct");
    expect(r).toEqual({
      ok: true,
      greeting: "hello from api",
      echo: "direct",
      farewell: "bye from api",
      authorized: true,
    });
  });

  test("remote: a dc1 client dials dc2's gateway, which forwards to api", async () => {
    const r = await tlsRequest("127.0.0.3", gw2.listenAddresses[0].port, API, pki.caCert, "remote path");
    expect(r).toEqual({
      ok: true,
      greeting: "hello from api",
      echo: "remote path",
      farewell: "bye from api",
      authorized: true,
    });
  });

  test("local: a dc1 client dials its own gateway, which forwards to dc2's gateway, then api", async () => {
    const before = metricValue(await metrics(gw2), "sni_gateway_connections_total", {
      result: "forwarded",
      datacenter: "dc2",
      service: "api",
    });
    const r = await tlsRequest("127.0.0.2", gw1.listenAddresses[0].port, API, pki.caCert, "local path");
    expect(r).toEqual({
      ok: true,
      greeting: "hello from api",
      echo: "local path",
      farewell: "bye from api",
      authorized: true,
    });
    expect(
      metricValue(await metrics(gw1), "sni_gateway_connections_total", {
        result: "forwarded",
        datacenter: "dc2",
        service: "api",
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(await metrics(gw2), "sni_gateway_connections_total", {
        result: "forwarded",
        datacenter: "dc2",
        service: "api",
      }),
    ).toBe(before + 1);
  });

  test("a local service and its subset through the local gateway", async () => {
    const r1 = await tlsRequest("127.0.0.2", gw1.listenAddresses[0].port, WEB, pki.caCert, "to web");
    expect(r1).toEqual({
      ok: true,
      greeting: "hello from web",
      echo: "to web",
      farewell: "bye from web",
      authorized: true,
    });
    const r2 = await tlsRequest("127.0.0.2", gw1.listenAddresses[0].port, WEB_V2, pki.caCert, "to v2");
    expect(r2).toEqual({
      ok: true,
      greeting: "hello from web-v2",
      echo: "to v2",
      farewell: "bye from web-v2",
      authorized: true,
    });
  });

  test("dc2's gateway forwards a dc1 service name to dc1's gateway (the other direction)", async () => {
    const r = await tlsRequest("127.0.0.3", gw2.listenAddresses[0].port, WEB, pki.caCert, "dc2 to dc1");
    expect(r).toEqual({
      ok: true,
      greeting: "hello from web",
      echo: "dc2 to dc1",
      farewell: "bye from web",
      authorized: true,
    });
  });

  test("names are matched case-insensitively", async () => {
    const r = await tlsRequest("127.0.0.2", gw1.listenAddresses[0].port, WEB.toUpperCase(), pki.caCert, "upper");
    expect(r).toMatchObject({ ok: true, greeting: "hello from web" });
  });

  test("a datacenter name goes to that datacenter's gateways, which refuse their own name", async () => {
    const before2 = metricValue(await metrics(gw2), "sni_gateway_route_rejections_total", {
      reason: "local-datacenter",
    });
    const r = await tlsRequest(
      "127.0.0.2",
      gw1.listenAddresses[0].port,
      gatewaySni({ datacenter: "dc2", trustDomain: TD }),
      pki.caCert,
    );
    expect(r.ok).toBe(false);
    expect(
      metricValue(await metrics(gw1), "sni_gateway_connections_total", {
        result: "forwarded",
        datacenter: "dc2",
        service: "",
      }),
    ).toBe(1);
    expect(metricValue(await metrics(gw2), "sni_gateway_route_rejections_total", { reason: "local-datacenter" })).toBe(
      before2 + 1,
    );
  });

  test("a client that trusts another CA fails verification through the gateway: the backend's own certificate reached it", async () => {
    const other = await createTestPki("other-ca-");
    try {
      const r = await tlsRequest("127.0.0.2", gw1.listenAddresses[0].port, WEB, other.caCert);
      expect(r).toEqual({
        ok: false,
        error: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/),
      });
    } finally {
      await other.cleanup();
    }
  });
});

describe("refused and counted, never forwarded", () => {
  const gw1Addr = () => ({ host: "127.0.0.2", port: gw1.listenAddresses[0].port });

  test.each([
    ["an unknown local service", `nope.default.dc1.internal.${TD}`, "unknown-service"],
    ["an unknown subset", `v9.web.default.dc1.internal.${TD}`, "unknown-service"],
    [
      "a foreign trust domain",
      "web.default.dc1.internal.00000000-0000-0000-0000-000000000000.consul",
      "foreign-trust-domain",
    ],
    ["an unknown datacenter", `api.default.dc9.internal.${TD}`, "unknown-datacenter"],
    ["a prepared query name", `q.default.dc1.query.${TD}`, "unsupported-name"],
    ["the gateway's own datacenter", `dc1.internal.${TD}`, "local-datacenter"],
    ["an ordinary host name", "example.com", "foreign-trust-domain"],
  ])("%s", async (_what, name, reason) => {
    const accepted = web.accepted + webV2.accepted + api.accepted;
    const before = await metrics(gw1);
    const r = await tlsRequest(gw1Addr().host, gw1Addr().port, name, pki.caCert);
    expect(r.ok).toBe(false);
    const after = await metrics(gw1);
    expect(metricValue(after, "sni_gateway_route_rejections_total", { reason })).toBe(
      metricValue(before, "sni_gateway_route_rejections_total", { reason }) + 1,
    );
    expect(metricValue(after, "sni_gateway_connections_total", { result: "rejected" }) >= 1).toBe(true);
    expect(web.accepted + webV2.accepted + api.accepted).toBe(accepted);
  });

  test("a hello without SNI", async () => {
    const before = metricValue(await metrics(gw1), "sni_gateway_hello_failures_total", { reason: "no-sni" });
    const r = await new Promise<string>((resolve) => {
      const s = tls.connect({
        host: "127.0.0.2",
        port: gw1Addr().port,
        ca: pki.caCert,
        checkServerIdentity: () => undefined,
      });
      s.on("secureConnect", () => resolve("connected"));
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      s.on("close", () => resolve("closed"));
    });
    expect(r).not.toBe("connected");
    expect(metricValue(await metrics(gw1), "sni_gateway_hello_failures_total", { reason: "no-sni" })).toBe(before + 1);
  });

  test("garbage and plain HTTP", async () => {
    const before = metricValue(await metrics(gw1), "sni_gateway_hello_failures_total", { reason: "not-tls" });
    const r1 = await rawExchange(gw1Addr().host, gw1Addr().port, Buffer.from("GET / HTTP/1.1\r\nHost: web\r\n\r\n"));
    const r2 = await rawExchange(gw1Addr().host, gw1Addr().port, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42]));
    expect(r1).toEqual({ received: Buffer.alloc(0), closedBy: "peer" });
    expect(r2).toEqual({ received: Buffer.alloc(0), closedBy: "peer" });
    expect(metricValue(await metrics(gw1), "sni_gateway_hello_failures_total", { reason: "not-tls" })).toBe(before + 2);
  });

  test("an oversized hello from a real client (20 KB of ALPN)", async () => {
    const before = metricValue(await metrics(gw1), "sni_gateway_hello_failures_total", { reason: "too-large" });
    const ALPNProtocols = Array.from({ length: 100 }, (_, i) => `${"x".repeat(190)}${String(i).padStart(3, "0")}`);
    const r = await new Promise<string>((resolve) => {
      const s = tls.connect({
        host: "127.0.0.2",
        port: gw1Addr().port,
        servername: WEB,
        ca: pki.caCert,
        ALPNProtocols,
      });
      s.on("secureConnect", () => resolve("connected"));
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      s.on("close", () => resolve("closed"));
    });
    expect(r).not.toBe("connected");
    expect(metricValue(await metrics(gw1), "sni_gateway_hello_failures_total", { reason: "too-large" })).toBe(
      before + 1,
    );
  });

  test("each refusal is logged once with its reason, without payload", () => {
    const refused = logLines.filter((l) => l.event === "connection-rejected" || l.event === "hello-refused");
    expect(refused.length).toBeGreaterThanOrEqual(10);
    for (const line of refused) expect(typeof line.reason).toBe("string");
    expect(refused.some((l) => l.reason === "foreign-trust-domain" && typeof l.sni === "string")).toBe(true);
  });
});

describe("admin endpoints", () => {
  test("/healthz, /readyz, /routes, /metrics", async () => {
    const base = `http://127.0.0.1:${gw1.adminAddress?.port}`;
    expect(await httpGet(`${base}/healthz`)).toEqual({ status: 200, body: "ok\n" });
    const ready = await httpGet(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, source: "static", routesLoaded: true, stale: false });
    const live = JSON.parse((await httpGet(`${base}/routes`)).body);
    expect(live).toEqual({
      datacenter: "dc1",
      trustDomain: TD,
      services: [
        { name: "web", namespace: "default", partition: "default", endpoints: [{ address: web.host, port: web.port }] },
        {
          name: "web",
          namespace: "default",
          partition: "default",
          subset: "v2",
          endpoints: [{ address: webV2.host, port: webV2.port }],
        },
      ],
      gateways: [
        {
          datacenter: "dc2",
          partition: "default",
          endpoints: [{ address: "127.0.0.3", port: gw2.listenAddresses[0].port }],
        },
      ],
    });
    const text = await metrics(gw1);
    expect(metricValue(text, "sni_gateway_route_table_entries", { kind: "service" })).toBe(2);
    expect(metricValue(text, "sni_gateway_route_table_entries", { kind: "gateway" })).toBe(1);
    expect(metricValue(text, "sni_gateway_route_table_last_reload_timestamp_seconds")).toBeGreaterThan(
      Date.now() / 1000 - 600,
    );
    expect(metricValue(text, "sni_gateway_bytes_total", { direction: "client_to_upstream" })).toBeGreaterThan(0);
    expect(metricValue(text, "sni_gateway_bytes_total", { direction: "upstream_to_client" })).toBeGreaterThan(0);
    expect(metricValue(text, "sni_gateway_upstream_connect_seconds_count", { result: "success" })).toBeGreaterThan(0);
    expect(text).toContain("sni_gateway_active_connections");
    expect((await httpGet(`${base}/nope`)).status).toBe(404);
  });
});
