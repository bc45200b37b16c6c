/**
 * The security settings of a datacenter, defaults applied: secure unless the declaration opts
 * out. The one home of these defaults: the agent configuration, the plans and the
 * validation read them here.
 */
import { CONSUL_PORTS } from "./defaults";
import type { DatacenterSpec } from "./types";

/** A datacenter's security settings (see `DatacenterSpec.tls`, `gossipEncryption` and `acl`). */
export interface DatacenterSecurity {
  /** TLS on the HTTP API, gRPC and server RPC. */
  tls: boolean;
  /** HTTPS clients must present a certificate signed by the CA. */
  httpsVerifyIncoming: boolean;
  /** Gossip encryption. */
  gossipEncryption: boolean;
  /** ACLs. */
  acl: boolean;
  /** The ACL default policy (when ACLs are on). */
  defaultPolicy: "allow" | "deny";
}

/**
 * The security settings of `dc`, defaults applied: TLS, gossip encryption and ACLs with
 * `default_policy = deny` unless turned off.
 * @param dc - The datacenter.
 */
export function securityOf(dc: Pick<DatacenterSpec, "tls" | "gossipEncryption" | "acl">): DatacenterSecurity {
  const tls = dc.tls?.enabled !== false;
  return {
    tls,
    httpsVerifyIncoming: tls && dc.tls?.httpsVerifyIncoming === true,
    gossipEncryption: dc.gossipEncryption?.enabled !== false,
    acl: dc.acl?.enabled !== false,
    defaultPolicy: dc.acl?.defaultPolicy ?? "deny",
  };
}

/** The agent ports of a datacenter's API and xDS server: HTTPS and gRPC TLS with `tls`, else HTTP and gRPC. */
export interface AgentPorts {
  /** The scheme of the HTTP API. */
  scheme: "http" | "https";
  /** The HTTP API's port. */
  http: number;
  /** The gRPC (xDS) port the gateways and sidecars use. */
  grpc: number;
}

/**
 * Where a datacenter's agents serve their API and xDS.
 * @param dc - The datacenter.
 */
export function agentPortsOf(dc: Pick<DatacenterSpec, "tls" | "ports">): AgentPorts {
  return securityOf(dc).tls
    ? { scheme: "https", http: CONSUL_PORTS.https, grpc: CONSUL_PORTS.grpcTls }
    : { scheme: "http", http: CONSUL_PORTS.http, grpc: dc.ports?.grpc ?? CONSUL_PORTS.grpc };
}
