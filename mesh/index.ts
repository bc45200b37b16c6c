/**
 * The pure domain model of a Consul mesh: topology types, validation, mesh gateway mode
 * precedence, Consul SNI names, route plans, and rendering of Consul JSON and HCL.
 * No Pulumi, no sockets.
 */
export * from "./types";
export * from "./sni";
export * from "./routes-file";
