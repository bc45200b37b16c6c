/**
 * The routes file the soak's file-mode gateways read: one service, `echo`, in `dc1`.
 */
import { renameSync, writeFileSync } from "node:fs";
import { serviceSni } from "../../mesh/model/sni";
import { FUZZ_TRUST_DOMAIN as TD } from "../fuzz/fuzz-table";
import type { Endpoint } from "./backends";

/** The server name of `echo`. */
export const ECHO_SNI = serviceSni({ service: "echo", datacenter: "dc1", trustDomain: TD });

/**
 * Writes the routes file, atomically (a rename, as deployment tools replace it): the gateway
 * never reads half a file.
 * @param file its path.
 * @param endpoints `echo`'s endpoints.
 */
export function writeRoutes(file: string, endpoints: readonly Endpoint[]): void {
  const routes = { datacenter: "dc1", trustDomain: TD, services: [{ name: "echo", endpoints }], gateways: [] };
  writeFileSync(`${file}.next`, JSON.stringify(routes));
  renameSync(`${file}.next`, file);
}
