/**
 * Collects the problems of a validation, each at its field path, with the checks every part of
 * the model shares (labels, ports, modes, blocks). Internal to the validation modules.
 */
import { isObject } from "../model/guards";
import type { MeshProblem } from "../errors";
import { isMode } from "../model/mode";
import { isPort } from "../model/port";
import { isSniLabel } from "../model/sni";
import type { MeshGatewayConfig } from "../model/types";

/** The problems found so far, and the shared checks that add to them. */
export class Collector {
  readonly problems: MeshProblem[] = [];
  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }
  label(path: string, value: unknown, what: string): boolean {
    if (isSniLabel(value)) return true;
    this.add(
      path,
      `invalid ${what} ${JSON.stringify(value)}: use 1–63 lower case letters, digits, ` +
        `"-" or "_", starting and ending with a letter or digit (it appears in SNI names)`,
    );
    return false;
  }
  port(path: string, value: unknown, what: string): void {
    if (!isPort(value))
      this.add(path, `${what} ${JSON.stringify(value)} is out of range: use an integer from 1 to 65535`);
  }
  mode(path: string, value: unknown): boolean {
    if (value === undefined || isMode(value)) return true;
    this.add(path, `invalid mesh gateway mode ${JSON.stringify(value)}: use "local", "remote", "none" or "" (not set)`);
    return false;
  }
  /** A `meshGateway` block at `path`: missing or `null` (not set), else an object with a valid `mode`. */
  meshGateway(path: string, value: unknown): boolean {
    if (value === undefined || value === null) return true;
    if (!isObject(value)) {
      this.add(path, `meshGateway ${JSON.stringify(value)} must be an object such as { mode: "local" }`);
      return false;
    }
    return this.mode(`${path}.mode`, (value as MeshGatewayConfig).mode);
  }
  /** A block at `path` that must be an object when set. */
  object(path: string, value: unknown, example: string): boolean {
    if (value === undefined || isObject(value)) return true;
    this.add(path, `${JSON.stringify(value) ?? String(value)} must be an object such as ${example}`);
    return false;
  }
}
