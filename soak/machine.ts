/**
 * The facts of the machine a soak ran on, for `RELIABILITY.md`: the figures mean little without them.
 */
import { readFileSync } from "node:fs";
import os from "node:os";

/** The machine. */
export interface MachineFacts {
  /** Logical CPUs. */
  cores: number;
  /** The CPU model. */
  cpu: string;
  /** Memory, in GiB. */
  memoryGiB: number;
  /** Node.js version. */
  node: string;
  /** Kernel. */
  kernel: string;
  /** This process's open-file limit: soft and hard. */
  openFiles: { soft: number; hard: number };
  /** Load average over the last minute when the run started (other work on the machine). */
  loadAverage: number;
}

/** Reads the facts now. */
export function machineFacts(): MachineFacts {
  const limits = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    openFiles: { soft: limits ? Number(limits[1]) : NaN, hard: limits ? Number(limits[2]) : NaN },
    loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
  };
}
