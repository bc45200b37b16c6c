/**
 * Consul's SNI names: how a connect proxy names the service (or datacenter) it dials, and
 * the only thing a mesh gateway reads from a connection.
 *
 *   service:            <service>.<namespace>.<dc>.internal.<trust-domain>
 *   service subset:     <subset>.<service>.<namespace>.<dc>.internal.<trust-domain>
 *   partition ≠ default: <service>.<namespace>.<partition>.<dc>.internal-v1.<trust-domain>
 *   datacenter:         <dc>.internal.<trust-domain>   (<partition>.<dc>.internal-v1.… off the default partition)
 *   server (WAN federation through mesh gateways): [<node>.]server.<dc>.<domain>
 *   peered service (cluster peering): <service>.<namespace>.<partition>.<peer>.external.<exporter's trust-domain>
 *   peering control plane: server.<dc>.peering.<accepting cluster's trust-domain>
 */
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "./defaults";
import { SNI_LABEL_PATTERN } from "./names";

/** DNS limits: 253 characters in a name, 63 in a label. */
const MAX_NAME = 253;

/** What a service SNI name identifies. */
export interface ServiceSniParts {
  /** Service name. */
  service: string;
  /** Namespace. Default: `"default"`. */
  namespace?: string;
  /** Admin partition. Default: `"default"`. */
  partition?: string;
  /** Datacenter of the service. */
  datacenter: string;
  /** Trust domain, `<cluster-id>.consul`. */
  trustDomain: string;
  /** Service subset (a service-resolver subset). Default: none. */
  subset?: string;
}

/** What a datacenter (gateway) SNI name identifies. */
export interface GatewaySniParts {
  /** Datacenter. */
  datacenter: string;
  /** Admin partition. Default: `"default"`. */
  partition?: string;
  /** Trust domain, `<cluster-id>.consul`. */
  trustDomain: string;
}

/** A parsed SNI name: a service, or a whole datacenter. */
export type ParsedSni =
  | { kind: "service"; service: string; namespace: string; partition: string; datacenter: string; subset?: string }
  | { kind: "gateway"; datacenter: string; partition: string };

/** The SNI name a proxy sends to reach `service` in `datacenter`, exactly as Consul builds it. */
export function serviceSni(parts: ServiceSniParts): string {
  const namespace = parts.namespace || DEFAULT_NAMESPACE;
  const partition = parts.partition || DEFAULT_PARTITION;
  const subset = parts.subset ? `${parts.subset}.` : "";
  const trustDomain = parts.trustDomain.toLowerCase();
  if (partition === DEFAULT_PARTITION) {
    return `${subset}${parts.service}.${namespace}.${parts.datacenter}.internal.${trustDomain}`;
  }
  return `${subset}${parts.service}.${namespace}.${partition}.${parts.datacenter}.internal-v1.${trustDomain}`;
}

/** The SNI name of a whole datacenter, which its mesh gateways answer to. */
export function gatewaySni(parts: GatewaySniParts): string {
  const partition = parts.partition || DEFAULT_PARTITION;
  const trustDomain = parts.trustDomain.toLowerCase();
  if (partition === DEFAULT_PARTITION) return `${parts.datacenter}.internal.${trustDomain}`;
  return `${partition}.${parts.datacenter}.internal-v1.${trustDomain}`;
}

/**
 * The inverse of {@link serviceSni} and {@link gatewaySni}. Returns `undefined` for a name
 * under another trust domain, a name of another shape (prepared queries, peers, servers),
 * invalid labels or an over-long name. Case-insensitive, as DNS names are. Never throws.
 */
export function parseSni(name: string, trustDomain: string): ParsedSni | undefined {
  if (typeof name !== "string" || typeof trustDomain !== "string") return undefined;
  if (name.length === 0 || name.length > MAX_NAME) return undefined;
  // Before lower-casing: Unicode case mapping folds some letters into ASCII (U+212A KELVIN SIGN → "k").
  if (!/^[\x21-\x7e]+$/.test(name)) return undefined;
  const lowerName = name.toLowerCase();
  const suffix = `.${trustDomain.toLowerCase()}`;
  if (trustDomain.length === 0 || !lowerName.endsWith(suffix)) return undefined;
  const labels = lowerName.slice(0, -suffix.length).split(".");
  if (!labels.every((label) => SNI_LABEL_PATTERN.test(label))) return undefined;

  const marker = labels[labels.length - 1];
  const head = labels.slice(0, -1);
  if (marker === "internal") {
    // [subset.]service.namespace.dc | dc
    if (head.length === 1) return { kind: "gateway", datacenter: head[0], partition: DEFAULT_PARTITION };
    if (head.length === 3) {
      const [service, namespace, datacenter] = head;
      return { kind: "service", service, namespace, partition: DEFAULT_PARTITION, datacenter };
    }
    if (head.length === 4) {
      const [subset, service, namespace, datacenter] = head;
      return { kind: "service", service, namespace, partition: DEFAULT_PARTITION, datacenter, subset };
    }
    return undefined;
  }
  if (marker === "internal-v1") {
    // [subset.]service.namespace.partition.dc | partition.dc
    if (head.length === 2) return { kind: "gateway", partition: head[0], datacenter: head[1] };
    if (head.length === 4) {
      const [service, namespace, partition, datacenter] = head;
      return { kind: "service", service, namespace, partition, datacenter };
    }
    if (head.length === 5) {
      const [subset, service, namespace, partition, datacenter] = head;
      return { kind: "service", service, namespace, partition, datacenter, subset };
    }
    return undefined;
  }
  return undefined;
}

/**
 * Whether `label` can stand as one label of an SNI name: 1–63 characters of lower case
 * letters, digits, `-` and `_`, starting and ending with a letter or digit. Service,
 * namespace, partition and datacenter names must pass it for {@link parseSni} to read them back.
 */
export function isSniLabel(label: unknown): boolean {
  return typeof label === "string" && SNI_LABEL_PATTERN.test(label);
}

/** The domain Consul serves DNS under (`domain`), which server SNI names end with. */
export const DEFAULT_CONSUL_DOMAIN = "consul";

/** What a server SNI name identifies (WAN federation through mesh gateways). */
export interface ServerSniParts {
  /** Datacenter of the server. */
  datacenter: string;
  /** The server's node name; `undefined` for any server of the datacenter. */
  node?: string;
  /** Consul's `domain`. Default: {@link DEFAULT_CONSUL_DOMAIN}. */
  domain?: string;
}

/** A parsed server SNI name, in lower case. */
export interface ParsedServerSni {
  datacenter: string;
  /** `undefined` for `server.<dc>.<domain>`: any server of the datacenter. */
  node?: string;
}

/**
 * The SNI name a Consul server dials another server with when datacenters are federated through
 * mesh gateways, as Consul builds it (`connect.ServerSNI`): `<node>.server.<dc>.<domain>`, or
 * `server.<dc>.<domain>` for any server of the datacenter.
 */
export function serverSni(parts: ServerSniParts): string {
  const domain = (parts.domain ?? DEFAULT_CONSUL_DOMAIN).replace(/\.$/, "").toLowerCase();
  const node = parts.node ? `${parts.node.toLowerCase()}.` : "";
  return `${node}server.${parts.datacenter.toLowerCase()}.${domain}`;
}

/**
 * The inverse of {@link serverSni}: `undefined` for any other shape, another domain or invalid
 * labels. Case-insensitive. Never throws.
 * @param name - The SNI name.
 * @param domain - Consul's `domain`. Default: {@link DEFAULT_CONSUL_DOMAIN}.
 */
export function parseServerSni(name: string, domain: string = DEFAULT_CONSUL_DOMAIN): ParsedServerSni | undefined {
  if (typeof name !== "string" || typeof domain !== "string") return undefined;
  if (name.length === 0 || name.length > MAX_NAME || !/^[\x21-\x7e]+$/.test(name)) return undefined;
  const suffix = `.${domain.replace(/\.$/, "").toLowerCase()}`;
  const lowerName = name.toLowerCase();
  if (suffix === "." || !lowerName.endsWith(suffix)) return undefined;
  const labels = lowerName.slice(0, -suffix.length).split(".");
  if (!labels.every((label) => SNI_LABEL_PATTERN.test(label))) return undefined;
  if (labels.length === 2 && labels[0] === "server") return { datacenter: labels[1] };
  if (labels.length === 3 && labels[1] === "server") return { datacenter: labels[2], node: labels[0] };
  return undefined;
}

/** What a peered service SNI name identifies (cluster peering). */
export interface PeeredServiceSniParts {
  /** Service name. */
  service: string;
  /** Namespace. Default: `"default"`. */
  namespace?: string;
  /** Admin partition. Default: `"default"`. */
  partition?: string;
  /** The exporting cluster's name for the consuming peer (not the consumer's name for the exporter). */
  peer: string;
  /** The exporting cluster's trust domain. */
  trustDomain: string;
}

/**
 * The SNI name a proxy dials an exported service of a peer with, as Consul builds it
 * (`connect.PeeredServiceSNI`): `<service>.<namespace>.<partition>.<peer>.external.<trust-domain>`,
 * always with the partition.
 */
export function peeredServiceSni(parts: PeeredServiceSniParts): string {
  const namespace = parts.namespace || DEFAULT_NAMESPACE;
  const partition = parts.partition || DEFAULT_PARTITION;
  return `${parts.service}.${namespace}.${partition}.${parts.peer}.external.${parts.trustDomain}`.toLowerCase();
}

/**
 * The server name a peer's servers dial a cluster's servers with (the peering control plane,
 * `connect.PeeringServerSAN`): `server.<dc>.peering.<trust-domain>`.
 */
export function peeringServerSni(datacenter: string, trustDomain: string): string {
  return `server.${datacenter}.peering.${trustDomain}`.toLowerCase();
}

/** A parsed cluster peering SNI name, in lower case. */
export type ParsedPeeringSni =
  | { kind: "peered-service"; service: string; namespace: string; partition: string; peer: string; trustDomain: string }
  | { kind: "peering-server"; datacenter: string; trustDomain: string };

/**
 * Reads a cluster peering name back ({@link peeredServiceSni}, {@link peeringServerSni}) under any
 * trust domain: `undefined` for any other shape or invalid labels. Case-insensitive. Never throws.
 */
export function parsePeeringSni(name: string): ParsedPeeringSni | undefined {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME) return undefined;
  if (!/^[\x21-\x7e]+$/.test(name)) return undefined;
  const labels = name.toLowerCase().split(".");
  if (!labels.every((label) => SNI_LABEL_PATTERN.test(label))) return undefined;
  const trustDomain = (from: number) => labels.slice(from).join(".");
  if (labels.length >= 6 && labels[4] === "external") {
    const [service, namespace, partition, peer] = labels;
    return { kind: "peered-service", service, namespace, partition, peer, trustDomain: trustDomain(5) };
  }
  if (labels.length >= 5 && labels[0] === "server" && labels[2] === "peering") {
    return { kind: "peering-server", datacenter: labels[1], trustDomain: trustDomain(3) };
  }
  return undefined;
}
