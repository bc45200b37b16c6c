/** What a mesh gateway is when its declaration leaves it out. */

/** The service name and ID of a mesh gateway: Consul's own default for `consul connect envoy -gateway=mesh`. */
export const DEFAULT_GATEWAY_NAME = "mesh-gateway";

/** The port a mesh gateway listens on. */
export const DEFAULT_GATEWAY_PORT = 8443;
