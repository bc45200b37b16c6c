/** What Consul assumes when a declaration leaves a placement or a gateway field out. */

/** The Consul Enterprise namespace of everything that names none (and the only one in Consul CE). */
export const DEFAULT_NAMESPACE = "default";

/** The Consul Enterprise admin partition of everything that names none (and the only one in Consul CE). */
export const DEFAULT_PARTITION = "default";

/** The service name and ID of a mesh gateway: Consul's own default for `consul connect envoy -gateway=mesh`. */
export const DEFAULT_GATEWAY_NAME = "mesh-gateway";

/** The port a mesh gateway listens on. */
export const DEFAULT_GATEWAY_PORT = 8443;

/** The port of Envoy's admin server, as `consul connect envoy` binds it. */
export const ENVOY_ADMIN_PORT = 19000;

/** The port of a mesh gateway's admin server (`/healthz`, `/readyz`, `/metrics`): Envoy's, as for Consul's gateway. */
export const DEFAULT_GATEWAY_ADMIN_PORT = ENVOY_ADMIN_PORT;

/** Consul's default agent ports: HTTP API, HTTPS API, plaintext gRPC (`ports.grpc`), TLS gRPC (`ports.grpc_tls`). */
export const CONSUL_PORTS = { http: 8500, https: 8501, grpc: 8502, grpcTls: 8503 } as const;
