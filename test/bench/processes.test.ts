/**
 * The benchmark's free ports (`bench/processes.ts`): picked below the ephemeral range, a taken
 * one skipped, and an address that cannot be bound reported as an error (never a hang, nor an
 * uncaught 'error' event).
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { freePort } from "../../bench/processes";

const HOST = "127.0.0.81";

function listen(port: number, host = HOST): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

test("a port below the ephemeral range, where no outgoing connection takes it, and bindable", async () => {
  const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
  const port = await freePort(HOST);
  expect(port).toBeGreaterThanOrEqual(1024);
  expect(port).toBeLessThan(Number(ephemeralLow));
  await close(await listen(port));
});

test("a taken port is skipped for the next candidate", async () => {
  const taken = await listen(0);
  const other = await listen(0);
  const takenPort = (taken.address() as net.AddressInfo).port;
  const freePortNumber = (other.address() as net.AddressInfo).port;
  await close(other);
  try {
    const candidates = [takenPort, freePortNumber];
    expect(await freePort(HOST, () => candidates.shift() ?? 0)).toBe(freePortNumber);
  } finally {
    await close(taken);
  }
});

test("an address this host does not have is an error naming it, not a hang", async () => {
  // 192.0.2.0/24 is TEST-NET-1: never a local address.
  await expect(freePort("192.0.2.1")).rejects.toThrow(/192\.0\.2\.1.*EADDRNOTAVAIL/);
});

test("gives up, with an error, when every candidate is taken", async () => {
  const taken = await listen(0);
  try {
    const port = (taken.address() as net.AddressInfo).port;
    await expect(freePort(HOST, () => port)).rejects.toThrow(/no free port on 127\.0\.0\.81/);
  } finally {
    await close(taken);
  }
});
