/** `HOST:PORT` strings, as the CLI takes them (`[::1]:8443` for IPv6). */
import { formatAddress } from "../../mesh/model/gateway-address";
import { isPort } from "../../mesh/model/port";

/** A host and port. */
export interface HostPort {
  /** IP address or host name (IPv6 without brackets). */
  host: string;
  /** Port, 0–65535 (`0` picks a free port when binding). */
  port: number;
}

/**
 * Parses `HOST:PORT` or `[IPv6]:PORT`.
 * @param value the text.
 * @returns the host and port, or an error message.
 */
export function parseHostPort(value: string): HostPort | { error: string } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) return { error: `"${value}" is not HOST:PORT (IPv6 as [::1]:PORT)` };
  const port = Number(m[3]);
  // Port 0 is kept: a listener bound to it gets a free port.
  if (port !== 0 && !isPort(port)) return { error: `"${value}": port ${port} is above 65535` };
  return { host: m[1] ?? m[2], port };
}

/**
 * Formats a host and port as `HOST:PORT` (`[IPv6]:PORT`).
 * @param hp the host and port.
 */
export function formatHostPort(hp: HostPort): string {
  return formatAddress({ address: hp.host, port: hp.port });
}
