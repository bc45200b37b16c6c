import { createPrivateKey, X509Certificate } from "node:crypto";
import {
  certificateAuthorityProvider,
  createCertificateAuthority,
  createGossipKey,
  gossipKeyProvider,
  issueServerCertificate,
  serverCertificateProvider,
} from "../../components/dynamic/consul-secrets";

describe("consul-secrets", () => {
  it("makes a CA and a server certificate as Consul's tls commands do, with the extra hosts", async () => {
    const ca = await createCertificateAuthority();
    const leaf = await issueServerCertificate(ca, {
      datacenter: "dc1",
      nodes: ["dc1-server-0"],
      hosts: ["10.250.1.10", "consul-dc1", "127.0.0.1"],
    });
    const caCert = new X509Certificate(ca.caPem);
    const cert = new X509Certificate(leaf.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.subject).toBe("CN=server.dc1.consul");
    expect(cert.subjectAltName?.split(", ")).toEqual([
      "DNS:server.dc1.consul",
      "DNS:dc1-server-0.server.dc1.consul",
      "DNS:localhost",
      "DNS:consul-dc1",
      "IP Address:127.0.0.1",
      "IP Address:10.250.1.10",
    ]);
    // Server RPC checks the client side of a server's certificate too.
    expect(cert.keyUsage).toEqual(expect.arrayContaining(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]));
    expect(cert.checkHost("server.dc1.consul")).toBe("server.dc1.consul");
    expect(cert.checkIP("10.250.1.10")).toBe("10.250.1.10");
    expect(createPrivateKey(leaf.keyPem).asymmetricKeyType).toBe("ec");
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
  });

  it("refuses a certificate signed by another CA", async () => {
    const [ca, other] = await Promise.all([createCertificateAuthority(), createCertificateAuthority()]);
    const leaf = await issueServerCertificate(ca, { datacenter: "dc2" });
    expect(new X509Certificate(leaf.certPem).verify(new X509Certificate(other.caPem).publicKey)).toBe(false);
  });

  it("draws a 32-byte gossip key", async () => {
    const key = await createGossipKey();
    expect(Buffer.from(key, "base64")).toHaveLength(32);
    expect(await createGossipKey()).not.toBe(key);
  });

  it("replaces a secret only when its rotation or what it names changes", async () => {
    expect(await gossipKeyProvider.diff("id", {}, {})).toMatchObject({ changes: false });
    expect(await gossipKeyProvider.diff("id", {}, { rotation: "2026-12" })).toMatchObject({
      changes: true,
      replaces: ["rotation"],
    });
    expect(await certificateAuthorityProvider.diff("id", { days: 10 }, { days: 10 })).toMatchObject({ changes: false });
    const ca = await createCertificateAuthority();
    const olds = { ...ca, datacenter: "dc1", hosts: ["a"] };
    expect(await serverCertificateProvider.diff("id", olds, { ...olds })).toMatchObject({ changes: false });
    expect(await serverCertificateProvider.diff("id", olds, { ...olds, hosts: ["a", "b"] })).toMatchObject({
      replaces: ["hosts"],
    });
  });

  it("creates outputs without the secret in the ID", async () => {
    const created = await gossipKeyProvider.create({});
    expect(created.id).not.toContain(created.outs.value);
    const ca = await certificateAuthorityProvider.create({});
    const cert = await serverCertificateProvider.create({ ...ca.outs, datacenter: "dc1" });
    expect(new X509Certificate(cert.outs.certPem).subject).toBe("CN=server.dc1.consul");
  });
});
