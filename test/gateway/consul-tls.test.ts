/**
 * Consul over HTTPS: CONSUL_HTTP_ADDR without a scheme + CONSUL_HTTP_SSL, and CONSUL_CACERT to
 * verify the agent, from the environment through the CLI parser to a working route source.
 * A TLS terminator (certificate for 127.0.0.1 from the test CA) sits in front of the double.
 */
import net from "node:net";
import tls from "node:tls";
import { startGateway } from "../../gateway";
import { parseCommandLine } from "../../gateway/cli/options";
import { ConsulClient } from "../../consul/client";
import { ConsulDouble } from "../support/consul-double";
import { createTestPki, TestPki } from "../../demo/pki";

let double: ConsulDouble;
let pki: TestPki;
let terminator: tls.Server;
let httpsPort: number;

beforeAll(async () => {
  double = await ConsulDouble.start({ datacenter: "dc1" });
  pki = await createTestPki();
  const cert = await pki.issue(["127.0.0.1"]);
  const doublePort = Number(new URL(double.url).port);
  terminator = tls.createServer({ key: cert.key, cert: cert.cert }, (socket) => {
    const upstream = net.connect({ host: "127.0.0.1", port: doublePort });
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve) => terminator.listen(0, "127.0.0.1", resolve));
  httpsPort = (terminator.address() as net.AddressInfo).port;
  await fetch(`${double.url}/v1/agent/service/register`, {
    method: "PUT",
    body: JSON.stringify({ Name: "web", Port: 1, Connect: { SidecarService: { Address: "127.0.0.81", Port: 21000 } } }),
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => terminator.close(() => resolve()));
  await double.close();
  await pki.cleanup();
});

test("CONSUL_HTTP_SSL + CONSUL_CACERT: the agent's certificate is verified and routes load", async () => {
  const cmd = parseCommandLine(["--datacenter", "dc1", "--listen", "127.0.0.80:0", "--no-register"], {
    CONSUL_HTTP_ADDR: `127.0.0.1:${httpsPort}`,
    CONSUL_HTTP_SSL: "true",
    CONSUL_CACERT: pki.caFile,
  });
  if (cmd.kind !== "run" || !("consul" in cmd.options.routes)) throw new Error("expected Consul mode");
  expect(cmd.options.routes.consul).toMatchObject({ address: `127.0.0.1:${httpsPort}`, ssl: true, ca: pki.caCert });
  const gw = await startGateway({
    ...cmd.options,
    routes: { via: "catalog", consul: cmd.options.routes.consul, watch: { minIntervalMs: 20, waitMs: 1000 } },
    logLevel: "silent",
  });
  try {
    expect(gw.ready()).toBe(true);
    expect(gw.table()?.services.get("default/default/web/")?.endpoints).toEqual([
      { address: "127.0.0.81", port: 21000 },
    ]);
  } finally {
    await gw.close(0);
  }
});

test("without the CA, the agent's certificate is refused", async () => {
  const client = new ConsulClient({ address: `https://127.0.0.1:${httpsPort}` });
  await expect(client.get("/v1/catalog/datacenters")).rejects.toMatchObject({
    code: "E_CONSUL_UNREACHABLE",
    message: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/),
  });
  client.close();
});
