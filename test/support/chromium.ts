/**
 * Headless Chromium (Debian's `chromium`) for tests that look at a rendered SVG as a person's
 * browser lays it out: a PNG screenshot, and the overlapping text boxes measured by Chromium.
 * Every run has a profile of its own and a deadline, after which its process group is killed.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Two `<text>` elements whose boxes overlap, as Chromium laid them out. */
export interface TextOverlap {
  /** The two texts. */
  texts: [string, string];
  /** Width and height of the intersection, in CSS pixels. */
  intersection: { width: number; height: number };
}

/** What {@link measureTextOverlaps} found. */
export interface TextLayout {
  /** How many `<text>` elements the page has. */
  texts: number;
  /** How many of them Chromium drew with no width or height (none, once fonts are laid out). */
  empty: number;
  /** The overlapping pairs. */
  overlaps: TextOverlap[];
}

/** How long one Chromium run may take before it is killed. */
const DEADLINE_MS = 60_000;

/** The process groups of the Chromium runs not yet ended, killed if the test process exits first. */
const running = new Set<number>();
process.on("exit", () => {
  for (const pid of running) killGroup(pid);
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * Boxes overlapping by less than this (CSS pixels, in either direction) count as touching: the
 * rounding of Graphviz's coordinates, not text over text.
 */
const TOUCHING_PX = 0.5;

let version: string | undefined;

/**
 * Chromium's version line, e.g. `Chromium 120.0.6099.224 built on Debian GNU/Linux 12 (bookworm)`.
 * Throws how to install Chromium when `chromium` is missing: the tests that need it never skip.
 */
export function chromiumVersion(): string {
  if (version === undefined) {
    const found = spawnSync("chromium", ["--version"], { encoding: "utf8", timeout: 30_000 });
    if (found.status !== 0) {
      throw new Error(
        "headless Chromium is needed to check the diagram as a browser draws it, and `chromium --version` " +
          `failed (${found.error?.message ?? found.stderr.trim()}): install Debian's chromium ` +
          "(`apt-get install -y chromium`, as .ci/run does). These tests never skip.",
      );
    }
    version = found.stdout.trim();
  }
  return version;
}

/**
 * Screenshots `svg` at its own size (1 SVG point = 4/3 CSS pixels) into the PNG file `pngFile`.
 * @param svg - An SVG document with `width` and `height` in points, as Graphviz writes them.
 * @param pngFile - Where to write the PNG.
 * @returns The window size used, in CSS pixels.
 */
export async function screenshotSvg(svg: string, pngFile: string): Promise<{ width: number; height: number }> {
  const size = svgPixelSize(svg);
  await withPage(page(svg, ""), (html) =>
    runChromium([`--screenshot=${pngFile}`, `--window-size=${size.width},${size.height}`, "--hide-scrollbars", html]),
  );
  return size;
}

/**
 * Every pair of `<text>` elements of `svg` whose boxes overlap, measured by Chromium's own layout
 * (`getBoundingClientRect`, so with the fonts the browser actually uses).
 * @param svg - An SVG document.
 */
export async function measureTextOverlaps(svg: string): Promise<TextLayout> {
  const args = (html: string) => ["--dump-dom", "--virtual-time-budget=5000", html];
  const dom = await withPage(page(svg, MEASURE_SCRIPT), (html) => runChromium(args(html)));
  const result = /<pre id="layout">([A-Za-z0-9+/=]*)<\/pre>/.exec(dom);
  if (!result) throw new Error(`the measuring script left no result; Chromium printed:\n${dom.slice(0, 2000)}`);
  return JSON.parse(Buffer.from(result[1], "base64").toString("utf8")) as TextLayout;
}

/** The measuring page's script: the result goes into `<pre id="layout">`, base64, so that no markup can mangle it. */
const MEASURE_SCRIPT = `
const texts = [...document.querySelectorAll("svg text")];
const boxes = texts.map((t) => ({ text: t.textContent, box: t.getBoundingClientRect() }));
const overlaps = [];
for (let i = 0; i < boxes.length; i++) {
  for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i].box, b = boxes[j].box;
    const width = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const height = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (width <= ${TOUCHING_PX} || height <= ${TOUCHING_PX}) continue;
    overlaps.push({ texts: [boxes[i].text, boxes[j].text], intersection: { width, height } });
  }
}
const empty = boxes.filter(({ box }) => box.width === 0 || box.height === 0).length;
const json = JSON.stringify({ texts: boxes.length, empty, overlaps });
const out = document.createElement("pre");
out.id = "layout";
out.textContent = btoa(Array.from(new TextEncoder().encode(json), (byte) => String.fromCharCode(byte)).join(""));
document.body.append(out);
`;

function page(svg: string, script: string): string {
  const body = svg.replace(/^<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?/, "");
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0;background:white}</style></head>` +
    `<body>${body}${script ? `<script>${script}</script>` : ""}</body></html>`
  );
}

function svgPixelSize(svg: string): { width: number; height: number } {
  const match = /<svg\b[^>]*\bwidth="([\d.]+)pt"[^>]*\bheight="([\d.]+)pt"/.exec(svg);
  if (!match) throw new Error("the SVG has no width and height in points");
  return { width: Math.ceil((Number(match[1]) * 4) / 3), height: Math.ceil((Number(match[2]) * 4) / 3) };
}

/** Runs `use` with the path of an HTML file holding `html`, in a directory removed afterwards. */
async function withPage<T>(html: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "diagram-chromium-"));
  try {
    const file = path.join(dir, "page.html");
    writeFileSync(file, html);
    return await use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs headless Chromium with `args` and a throw-away profile; resolves with its stdout. */
function runChromium(args: string[]): Promise<string> {
  chromiumVersion();
  const profile = mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
  const flags = [`--user-data-dir=${profile}`, "--headless", "--no-sandbox", "--disable-gpu"];
  flags.push("--disable-dev-shm-usage"); // /dev/shm is small in containers
  // A process group of its own, so that a time-out kills the browser with its renderer and GPU processes.
  const child = spawn("chromium", [...flags, ...args], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const pid = child.pid;
  if (pid !== undefined) running.add(pid);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (pid !== undefined) killGroup(pid);
      const what = `chromium ${args.join(" ")}`;
      reject(new Error(`${what} did not end in ${DEADLINE_MS / 1000} s; stderr:\n${stderr.slice(-2000)}`));
    }, DEADLINE_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      rmSync(profile, { recursive: true, force: true });
      if (code === 0) resolve(stdout);
      else reject(new Error(`chromium ${args.join(" ")} exited with ${code}; stderr:\n${stderr.slice(-2000)}`));
    });
  });
}
