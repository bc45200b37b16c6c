/**
 * What a secure mesh needs before its servers start, generated once and kept as Pulumi
 * secrets in the stack's state:
 *
 * - `ConsulCertificateAuthority`: the CA every agent's certificate is signed by, as
 *   `consul tls ca create` makes it (ECDSA P-256, 1,825 days);
 * - `ConsulServerCertificate`: a datacenter's server certificate, as `consul tls cert create
 *   -server` makes it (`server.<dc>.<domain>`, `<node>.server.<dc>.<domain>`, `localhost`,
 *   `127.0.0.1`, serverAuth and clientAuth, 365 days), plus the names and addresses the servers
 *   are dialled at;
 * - `GossipKey`: the gossip encryption key, as `consul keygen` makes it (32 random bytes).
 *
 * Certificates are built with `@peculiar/x509` on Node's WebCrypto; nothing here writes ASN.1.
 * Inputs never hold randomness, so a preview changes nothing; a new `rotation` value (or, for
 * a certificate, new names or a new CA) replaces the resource, which is how secrets are rotated.
 * Each provider references only functions of this module: Pulumi serializes it by value.
 */
import type { webcrypto } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

type KeyPair = webcrypto.CryptoKeyPair;

const DAY_MS = 86_400_000;
/** Certificates start a minute early, so that a host whose clock lags a little accepts them at once. */
const BACKDATE_MS = 60_000;

/** A CA: its certificate and private key (PKCS #8), in PEM. */
export interface CertificateAuthorityPem {
  /** The CA certificate. */
  caPem: string;
  /** The CA's private key: a secret. */
  caKeyPem: string;
}

/** A certificate and its private key (PKCS #8), in PEM. */
export interface CertificatePem {
  /** The certificate. */
  certPem: string;
  /** Its private key: a secret. */
  keyPem: string;
}

/** What a server certificate names. */
export interface ServerCertificateRequest {
  /** The datacenter (`server.<datacenter>.<domain>`). */
  datacenter: string;
  /** Consul's domain. Default: `"consul"`. */
  domain?: string;
  /** The servers' node names: each gets `<node>.server.<datacenter>.<domain>`. Default: none. */
  nodes?: string[];
  /** Further host names and IP addresses the servers are dialled at. Default: none. */
  hosts?: string[];
  /** Validity in days. Default: `365`, as `consul tls cert create`. */
  days?: number;
}

/** The x509 library with Node's WebCrypto as its provider (it needs a Reflect polyfill first). */
async function x509Library() {
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  const { webcrypto } = await import("node:crypto");
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  return { x509, subtle: webcrypto.subtle };
}

/** ECDSA P-256 with SHA-256, as Consul's own `tls` commands use. */
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/**
 * A new CA, as `consul tls ca create` makes it.
 * @param days - Validity in days. Default: `1825`.
 */
export async function createCertificateAuthority(days = 1825): Promise<CertificateAuthorityPem> {
  const { x509, subtle } = await x509Library();
  const keys = (await subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as KeyPair;
  const now = Date.now();
  const flags = x509.KeyUsageFlags;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=Consul Agent CA, O=consul-mesh-gateway",
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + days * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(flags.keyCertSign | flags.cRLSign | flags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const key = await subtle.exportKey("pkcs8", keys.privateKey);
  return { caPem: ca.toString("pem"), caKeyPem: x509.PemConverter.encode(key, "PRIVATE KEY") };
}

/**
 * A server certificate signed by `ca`, as `consul tls cert create -server` makes it, with
 * `request.hosts` added (IP addresses as IP names, the rest as DNS names).
 * @param ca - The CA.
 * @param request - What it names.
 */
export async function issueServerCertificate(
  ca: CertificateAuthorityPem,
  request: ServerCertificateRequest,
): Promise<CertificatePem> {
  const { x509, subtle } = await x509Library();
  const { isIP } = await import("node:net");
  const domain = request.domain ?? "consul";
  const server = `server.${request.datacenter}.${domain}`;
  const dns = [server, ...(request.nodes ?? []).map((node) => `${node}.${server}`), "localhost"];
  const ips = ["127.0.0.1"];
  for (const host of request.hosts ?? []) {
    const list = isIP(host) ? ips : dns;
    if (!list.includes(host)) list.push(host);
  }
  const caCert = new x509.X509Certificate(ca.caPem);
  const caKey = await subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(ca.caKeyPem),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const keys = (await subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as KeyPair;
  const now = Date.now();
  const flags = x509.KeyUsageFlags;
  const usage = x509.ExtendedKeyUsage;
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${server}`,
    issuer: caCert.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + (request.days ?? 365) * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(flags.digitalSignature | flags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage.serverAuth, usage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dns.map((value) => ({ type: "dns" as const, value })),
        ...ips.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  const key = await subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: cert.toString("pem"), keyPem: x509.PemConverter.encode(key, "PRIVATE KEY") };
}

/** A gossip encryption key, as `consul keygen` makes it: 32 random bytes in base64. */
export async function createGossipKey(): Promise<string> {
  const { randomBytes } = await import("node:crypto");
  return randomBytes(32).toString("base64");
}

/** A random resource ID: nothing of a secret shows in plain state. */
async function randomId(): Promise<string> {
  const { randomUUID } = await import("node:crypto");
  return randomUUID();
}

/** Inputs that only decide when a secret is drawn again: any change replaces the resource. */
function replaceOnChange(olds: Record<string, unknown>, news: Record<string, unknown>, fields: string[]) {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const replaces = fields.filter((field) => !same(olds[field], news[field]));
  return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
}

/** Inputs of {@link certificateAuthorityProvider}. */
interface CertificateAuthorityInputs {
  days?: number;
  rotation?: string;
}

/** The provider of {@link ConsulCertificateAuthority}. */
export const certificateAuthorityProvider = {
  /** Draws the CA. */
  async create(inputs: CertificateAuthorityInputs) {
    return { id: await randomId(), outs: { ...inputs, ...(await createCertificateAuthority(inputs.days ?? 1825)) } };
  },
  /** A new validity or rotation draws a new CA. */
  async diff(_id: string, olds: CertificateAuthorityInputs, news: CertificateAuthorityInputs) {
    return replaceOnChange({ ...olds }, { ...news }, ["days", "rotation"]);
  },
};

/** Inputs of {@link serverCertificateProvider}. */
interface ServerCertificateInputs extends ServerCertificateRequest, CertificateAuthorityPem {
  rotation?: string;
}

/** The provider of {@link ConsulServerCertificate}. */
export const serverCertificateProvider = {
  /** Issues the certificate. */
  async create(inputs: ServerCertificateInputs) {
    const issued = await issueServerCertificate(inputs, inputs);
    return { id: await randomId(), outs: { ...inputs, ...issued } };
  },
  /** New names, a new CA or a rotation issue a new certificate. */
  async diff(_id: string, olds: ServerCertificateInputs, news: ServerCertificateInputs) {
    const fields = ["datacenter", "domain", "nodes", "hosts", "days", "caPem", "rotation"];
    return replaceOnChange({ ...olds }, { ...news }, fields);
  },
};

/** The provider of {@link GossipKey}. */
export const gossipKeyProvider = {
  /** Draws the key. */
  async create(inputs: { rotation?: string }) {
    return { id: await randomId(), outs: { ...inputs, value: await createGossipKey() } };
  },
  /** A rotation draws a new key. */
  async diff(_id: string, olds: { rotation?: string }, news: { rotation?: string }) {
    return replaceOnChange({ ...olds }, { ...news }, ["rotation"]);
  },
};

/** Arguments of {@link ConsulCertificateAuthority}. */
export interface ConsulCertificateAuthorityArgs {
  /** Validity in days. Default: `1825`, as `consul tls ca create`. */
  days?: number;
  /** Any new value draws a new CA (and so new certificates for every server). Default: none. */
  rotation?: pulumi.Input<string>;
}

/** A CA for a mesh's agents, drawn once and kept as a secret (its key) in the stack's state. */
export class ConsulCertificateAuthority extends pulumi.dynamic.Resource {
  /** The CA certificate (not a secret: every client needs it). */
  declare readonly caPem: pulumi.Output<string>;
  /** The CA's private key; a Pulumi secret. */
  declare readonly caKeyPem: pulumi.Output<string>;

  constructor(name: string, args: ConsulCertificateAuthorityArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(
      certificateAuthorityProvider,
      name,
      { days: args.days, rotation: args.rotation, caPem: undefined, caKeyPem: undefined },
      { ...opts, additionalSecretOutputs: ["caKeyPem"] },
      undefined,
      "ConsulCertificateAuthority",
    );
  }
}

/** Arguments of {@link ConsulServerCertificate}. */
export interface ConsulServerCertificateArgs {
  /** The CA that signs it. */
  ca: ConsulCertificateAuthority;
  /** The datacenter (`server.<datacenter>.consul`). */
  datacenter: string;
  /** The servers' node names (`<node>.server.<datacenter>.consul`). Default: none. */
  nodes?: string[];
  /** Further host names and IP addresses the servers are dialled at. Default: none. */
  hosts?: pulumi.Input<pulumi.Input<string>[]>;
  /** Validity in days. Default: `365`, as `consul tls cert create`. */
  days?: number;
  /** Any new value issues a new certificate. Default: none. */
  rotation?: pulumi.Input<string>;
}

/** The certificate of a datacenter's servers, issued once and kept (its key a secret) in the stack's state. */
export class ConsulServerCertificate extends pulumi.dynamic.Resource {
  /** The certificate. */
  declare readonly certPem: pulumi.Output<string>;
  /** Its private key; a Pulumi secret. */
  declare readonly keyPem: pulumi.Output<string>;

  constructor(name: string, args: ConsulServerCertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      serverCertificateProvider,
      name,
      {
        caPem: args.ca.caPem,
        caKeyPem: args.ca.caKeyPem,
        datacenter: args.datacenter,
        nodes: args.nodes ?? [],
        hosts: args.hosts ?? [],
        days: args.days,
        rotation: args.rotation,
        certPem: undefined,
        keyPem: undefined,
      },
      { ...opts, additionalSecretOutputs: ["caKeyPem", "keyPem"] },
      undefined,
      "ConsulServerCertificate",
    );
  }
}

/** Arguments of {@link GossipKey}. */
export interface GossipKeyArgs {
  /**
   * Any new value draws a new key: the servers' configuration changes, so each is replaced and
   * starts with it (they keep no keyring file); until all are, old and new cannot gossip (see the
   * README). Default: none.
   */
  rotation?: pulumi.Input<string>;
}

/** A gossip encryption key drawn once and kept as a secret in the stack's state. */
export class GossipKey extends pulumi.dynamic.Resource {
  /** The key (32 bytes, base64); a Pulumi secret. */
  declare readonly value: pulumi.Output<string>;

  constructor(name: string, args: GossipKeyArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(
      gossipKeyProvider,
      name,
      { rotation: args.rotation, value: undefined },
      { ...opts, additionalSecretOutputs: ["value"] },
      undefined,
      "GossipKey",
    );
  }
}
