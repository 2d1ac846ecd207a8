/**
 * S2: the fetch handler runs unchanged under Bun and Deno. Each runtime (the npm
 * packages `bun` and `deno`, installed on first use into tools/bun and
 * tools/deno by scripts/tool.mjs) serves test/fixtures/runtime-entry.mjs with
 * its own server, and Node's fetch checks the routes over a real socket.
 *
 * A runtime that cannot be installed fails the suite in CI (`CI` set) and skips it elsewhere.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { fetchHandlerChecks } from "./fixtures/runtime-checks.js";

const START_TIMEOUT_MS = 20_000;
const KILL_GRACE_MS = 3_000;

/** The repo root: the nearest folder above this file whose package.json is usrv's (works from test/ and build/test/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "usrv")
      return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no usrv package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

const root = repoRoot();
const entry = join(root, "test", "fixtures", "runtime-entry.mjs");

/** The runtime's binary, installed into tools/NAME on first use; null when that fails. */
function tool(name: string): string | null {
  const r = spawnSync(process.execPath, [join(root, "scripts", "tool.mjs"), "--path", name], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

interface Runtime {
  label: string;
  /** Its folder under tools/. */
  tool: string;
  args: string[];
  /** Extra environment; a function so a temporary folder is made only when the runtime runs. */
  env?: () => { vars: Record<string, string>; cleanup: () => void };
}

const runtimes: Runtime[] = [
  {
    label: "Bun",
    tool: "bun",
    // No auto-install (never touch the network), no .env files.
    args: ["run", "--no-install", "--no-env-file", entry],
  },
  {
    label: "Deno",
    tool: "deno",
    // Offline: no remote modules, only what is cached, npm packages from the existing
    // node_modules (left untouched), no deno.json, no deno.lock written.
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--no-prompt",
      "--no-config",
      "--no-lock",
      "--no-remote",
      "--cached-only",
      "--node-modules-dir=manual",
      entry,
    ],
    env: () => {
      // A private cache, so the user's ~/.cache/deno is neither read nor written.
      const dir = mkdtempSync(join(tmpdir(), "usrv-deno-"));
      return {
        vars: { DENO_DIR: dir, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];

/** A runtime child serving the entry file. */
class Served {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly #exited: Promise<void>;
  readonly #killOnExit = () => this.child.kill("SIGKILL");

  constructor(bin: string, rt: Runtime, env: Record<string, string>) {
    this.child = spawn(bin, rt.args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Last resort: never outlive the test process.
    process.once("exit", this.#killOnExit);
    this.child.stdout!.setEncoding("utf8").on("data", (s: string) => {
      this.stdout += s;
    });
    this.child.stderr!.setEncoding("utf8").on("data", (s: string) => {
      this.stderr += s;
    });
    this.#exited = new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.once("error", () => resolve());
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** Resolves with the port once the child printed `LISTENING <port>`. */
  listening(): Promise<number> {
    return new Promise((resolve, reject) => {
      const out = this.child.stdout!;
      const done = (err: Error | null, port?: number) => {
        clearTimeout(timer);
        out.off("data", check);
        this.child.off("exit", exited);
        this.child.off("error", failed);
        if (err) reject(err);
        else resolve(port!);
      };
      const check = () => {
        const m = /^LISTENING (\d+)\s*$/m.exec(this.stdout);
        if (m) done(null, Number(m[1]));
      };
      const exited = (code: number | null, signal: string | null) =>
        done(new Error(`exited before listening (code ${code}, signal ${signal})${this.tail()}`));
      const failed = (e: Error) => done(new Error(`could not start: ${e.message}${this.tail()}`));
      const timer = setTimeout(
        () => done(new Error(`no LISTENING line after ${START_TIMEOUT_MS} ms${this.tail()}`)),
        START_TIMEOUT_MS,
      );
      out.on("data", check);
      this.child.once("exit", exited);
      this.child.once("error", failed);
      check();
    });
  }

  tail(): string {
    return `\n--- stderr ---\n${this.stderr.trim() || "(empty)"}\n--- stdout ---\n${this.stdout.trim() || "(empty)"}`;
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once the child is gone. */
  async stop(): Promise<void> {
    process.off("exit", this.#killOnExit);
    if (!this.running) return;
    this.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), KILL_GRACE_MS);
    });
    const late = (await Promise.race([this.#exited, grace])) === "late";
    clearTimeout(timer);
    if (late && this.running) {
      this.child.kill("SIGKILL");
      await this.#exited;
    }
  }
}

for (const rt of runtimes) {
  const name = `S2: the fetch handler under ${rt.label}`;
  const bin = tool(rt.tool);
  if (bin === null) {
    const reason = `${rt.label} could not be installed into tools/${rt.tool} (node scripts/tool.mjs ${rt.tool})`;
    if (process.env.CI) {
      describe(name, () => {
        it("has the runtime binary", () => assert.fail(`${reason}; CI needs every runtime`));
      });
    } else {
      describe(name, { skip: reason }, () => {});
    }
    continue;
  }

  describe(name, () => {
    let served: Served | undefined;
    let cleanup = () => {};
    let base = "";
    let startMs = 0;

    before(async () => {
      const extra = rt.env?.();
      cleanup = extra?.cleanup ?? cleanup;
      const t0 = performance.now();
      served = new Served(bin, rt, extra?.vars ?? {});
      const port = await served.listening();
      startMs = performance.now() - t0;
      base = `http://127.0.0.1:${port}`;
    });

    after(async () => {
      await served?.stop();
      cleanup();
    });

    const get = (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);

    it("starts on the entry file and prints LISTENING <port>", (t) => {
      assert.ok(served?.running, `not running${served?.tail() ?? ""}`);
      t.diagnostic(`${rt.label} listening after ${Math.round(startMs)} ms: ${bin} ${rt.args.join(" ")}`);
    });

    fetchHandlerChecks(get);

    it("is still running after the requests", () => {
      assert.ok(served?.running, `the runtime died${served?.tail() ?? ""}`);
    });
  });
}
