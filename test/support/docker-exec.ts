/**
 * Looking inside a running stack's containers: a gateway's metrics through `docker exec` (its
 * admin port is not published), and a held stream from a service's network namespace.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { dockerOk } from "./docker";

/** The `sni_gateway_connections_total{result="forwarded"}` counts of a gateway container, by service. */
export async function forwardedByService(container: string): Promise<Record<string, number>> {
  const script =
    "require('http').get('http://127.0.0.1:19000/metrics',r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>process.stdout.write(b))})";
  const text = await dockerOk(["exec", container, "node", "-e", script]);
  const out: Record<string, number> = {};
  for (const m of text.matchAll(
    /^sni_gateway_connections_total\{result="forwarded",datacenter="[^"]*",service="([^"]*)"\} (\d+)/gm,
  ))
    out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  return out;
}

/**
 * An HTTP request held open from inside a container: it connects to `port` on the container's
 * 127.0.0.1 and sends the request line and headers without the blank line that ends them, then
 * waits for {@link HeldRequest.finish}, and prints the response's status line.
 */
export class HeldRequest {
  private output = "";
  private readonly done: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
    this.done = new Promise((resolve) => child.on("exit", resolve));
  }

  /**
   * Opens the request and resolves once it is connected and half sent.
   * @param container - The container whose network namespace the sidecar shares.
   * @param port - The upstream's local bind port.
   */
  static async open(container: string, port: number): Promise<HeldRequest> {
    const script = `
      const s = require("net").connect(${port}, "127.0.0.1", () => {
        s.write("GET / HTTP/1.1\\r\\nHost: held\\r\\n");
        console.log("connected");
      });
      let body = "";
      s.on("data", (d) => (body += d));
      s.on("end", () => { console.log("status: " + body.split("\\r\\n")[0]); process.exit(0); });
      s.on("error", (e) => { console.log("error: " + e.message); process.exit(1); });
      process.stdin.once("data", () => s.write("Connection: close\\r\\n\\r\\n"));
      setTimeout(() => { console.log("error: no answer within 120 s"); process.exit(2); }, 120000);
    `;
    const held = new HeldRequest(spawn("docker", ["exec", "-i", container, "node", "-e", script]));
    const deadline = Date.now() + 30_000;
    while (!held.output.includes("connected")) {
      if (held.output.includes("error") || Date.now() > deadline) throw new Error(`held request: ${held.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return held;
  }

  /** Sends the rest of the request and resolves with what the client printed. */
  async finish(): Promise<string> {
    this.child.stdin?.write("go\n");
    await this.done;
    return this.output;
  }
}
