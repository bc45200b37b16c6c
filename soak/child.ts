/**
 * The soak's helper processes (backends, clients, the gateway host): each a script of `soak/`
 * run from its TypeScript source with an IPC channel, answering requests one by one. Stopped by
 * its own PID, on request and when the soak exits.
 */
import { ChildProcess, fork } from "node:child_process";
import { openSync } from "node:fs";
import path from "node:path";
import { SoakError } from "./soak-error";

/** The require hook that runs the soak from its sources (`soak/ts-register.js`). */
export const TS_REGISTER = path.join(__dirname, "ts-register.js");

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** A request to a helper: its kind and arguments. */
export interface Request {
  /** What to do. */
  type: string;
  [argument: string]: unknown;
}

interface Envelope {
  id: number;
  request?: Request;
  result?: unknown;
  error?: string;
}

/** A helper process seen from the soak. */
export class SoakChild {
  private next = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<number | string>;

  private constructor(
    /** A short name for messages. */
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    running.add(child);
    child.on("message", (message: Envelope) => {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new SoakError("E_SOAK_HELPER", name, message.error));
      else waiter?.resolve(message.result);
    });
    this.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        running.delete(child);
        for (const waiter of this.pending.values())
          waiter.reject(new SoakError("E_SOAK_HELPER", name, `exited (${code ?? signal})`));
        this.pending.clear();
        resolve(code ?? signal ?? -1);
      }),
    );
  }

  /**
   * Starts a script of the soak.
   * @param name a short name for messages.
   * @param script its path relative to `soak/` (`load/backend.ts`, run from its source), or an absolute path of a compiled one.
   * @param args its arguments.
   * @param logFile where its stdout and stderr go.
   * @param options Node.js flags (default: none) and more environment variables (default: none).
   */
  static start(
    name: string,
    script: string,
    args: string[],
    logFile: string,
    options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {},
  ): SoakChild {
    const log = openSync(logFile, "a");
    const file = path.isAbsolute(script) ? script : path.join(__dirname, script);
    const child = fork(file, args, {
      stdio: ["ignore", log, log, "ipc"],
      execArgv: [...(file.endsWith(".ts") ? ["-r", TS_REGISTER] : []), ...(options.execArgv ?? [])],
      env: { ...process.env, ...options.env },
    });
    return new SoakChild(name, child);
  }

  /** The process ID. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /**
   * Sends a request and waits for its answer.
   * @param request what to do.
   */
  call<T>(request: Request): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, request } satisfies Envelope);
    });
  }

  /**
   * Stops the process: `signal`, then SIGKILL after `graceMs`.
   * @param signal Default: `"SIGTERM"`.
   * @param graceMs Default: `5000`.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<number | string> {
    if (running.has(this.child)) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

/**
 * The helper's side: answers each request with `handle`'s result (or its error's message), and
 * exits when the soak goes away (its channel closes).
 * @param handle what the helper does for a request.
 */
export function serveRequests(handle: (request: Request) => Promise<unknown>): void {
  process.on("message", (message: Envelope) => {
    if (!message.request) return;
    handle(message.request).then(
      (result) => process.send?.({ id: message.id, result } satisfies Envelope),
      (error: Error) => process.send?.({ id: message.id, error: error.message } satisfies Envelope),
    );
  });
  process.on("disconnect", () => process.exit(0));
}
