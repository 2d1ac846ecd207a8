/**
 * S2: the fetch handler runs unchanged under workerd, Cloudflare's Workers
 * runtime (the npm package `workerd`, installed on first use into
 * tools/workerd by scripts/tool.mjs), beside Bun and Deno (runtimes.test.ts).
 *
 * esbuild bundles test/fixtures/workerd-entry.mjs (`export default { fetch:
 * app.fetch }`), split at every dynamic import as usrv's own dist is; each
 * output file becomes one module of a generated workerd config, the entry
 * first. Node compatibility is switched off, so a `node:` module, `process` or
 * `Buffer` reached by a request fails here. The lazy chunks (the Node server,
 * the secret store) import `node:` modules but are never loaded.
 *
 * A missing workerd fails the suite in CI (`CI` set) and skips it elsewhere.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync, inflateSync } from "node:zlib";
import { build } from "esbuild";
import { body, fetchHandlerChecks } from "./fixtures/runtime-checks.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENTRY = join(ROOT, "test", "fixtures", "workerd-entry.mjs");
const START_TIMEOUT_MS = 20_000;
const KILL_GRACE_MS = 3_000;
/**
 * Not after the pinned workerd's own date (tools/workerd). From 2026-08-04 on,
 * a compatibility date turns Node compatibility on by default, hence the two
 * flags that turn it off.
 */
const COMPATIBILITY_DATE = "2026-11-01";
const COMPATIBILITY_FLAGS = ["no_nodejs_compat", "no_nodejs_compat_v2"];

/** workerd's binary, installed into tools/workerd on first use; null when that fails. */
function workerdBin(): string | null {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "tool.mjs"), "--path", "workerd"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Bundles the entry into `dir` as Workers modules and writes a config serving them on 127.0.0.1, any port. */
async function writeWorker(dir: string): Promise<string> {
  const { metafile } = await build({
    entryPoints: { worker: ENTRY },
    absWorkingDir: ROOT,
    outdir: dir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"], // wrangler's
    external: ["node:*", ...builtinModules],
    metafile: true,
    logLevel: "error",
  });
  const modules = Object.keys(metafile.outputs)
    .map((out) => relative(dir, join(ROOT, out)))
    .filter((name) => name.endsWith(".js"))
    .sort((a, b) => Number(b === "worker.js") - Number(a === "worker.js")); // the main module first
  assert.equal(modules[0], "worker.js");
  const config = join(dir, "config.capnp");
  writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
${modules.map((m) => `    (name = ${JSON.stringify(m)}, esModule = embed ${JSON.stringify(m)}),`).join("\n")}
  ],
  compatibilityDate = ${JSON.stringify(COMPATIBILITY_DATE)},
  compatibilityFlags = ${JSON.stringify(COMPATIBILITY_FLAGS)},
);
`,
  );
  return config;
}

function controlEvent(line: string): { event?: string; socket?: string; port?: number } {
  try {
    return JSON.parse(line) ?? {};
  } catch {
    return {};
  }
}

/** `workerd serve`, which reports the port it bound on a control pipe (fd 3). */
class Workerd {
  readonly child: ChildProcess;
  output = "";
  readonly #exited: Promise<void>;
  readonly #killOnExit = () => this.child.kill("SIGKILL");

  constructor(bin: string, config: string) {
    // --verbose: uncaught exceptions in the worker go to stderr, for tail().
    this.child = spawn(bin, ["serve", config, "--control-fd=3", "--verbose"], {
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    process.once("exit", this.#killOnExit); // never outlive the test process
    for (const s of [this.child.stdout!, this.child.stderr!])
      s.setEncoding("utf8").on("data", (text: string) => {
        this.output += text;
      });
    this.#exited = new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.once("error", () => resolve());
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  /** Resolves with the port of the `http` socket once workerd listens. */
  listening(): Promise<number> {
    const control = this.child.stdio[3] as Readable;
    let pending = "";
    return new Promise((resolve, reject) => {
      const done = (err: Error | null, port?: number) => {
        clearTimeout(timer);
        control.off("data", read);
        this.child.off("exit", exited);
        if (err) reject(err);
        else resolve(port!);
      };
      // One JSON object a line, e.g. {"event":"listen","socket":"http","port":40123}.
      const read = (text: string) => {
        pending += text;
        for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
          const event = controlEvent(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
          if (event.event === "listen" && event.socket === "http" && typeof event.port === "number")
            return done(null, event.port);
        }
      };
      const exited = (code: number | null, signal: string | null) =>
        done(new Error(`workerd exited before listening (code ${code}, signal ${signal})${this.tail()}`));
      const timer = setTimeout(
        () => done(new Error(`workerd not listening after ${START_TIMEOUT_MS} ms${this.tail()}`)),
        START_TIMEOUT_MS,
      );
      control.setEncoding("utf8").on("data", read);
      this.child.once("exit", exited);
    });
  }

  tail(): string {
    return `\n--- workerd's output ---\n${this.output.trim() || "(empty)"}`;
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once workerd is gone. */
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

const NAME = "S2: the fetch handler under workerd, without Node compatibility";
const bin = workerdBin();

if (bin === null) {
  const reason = "workerd could not be installed into tools/workerd (node scripts/tool.mjs workerd)";
  if (process.env.CI) {
    describe(NAME, () => {
      it("has the workerd binary", () => assert.fail(`${reason}; CI needs it`));
    });
  } else {
    describe(NAME, { skip: reason }, () => {});
  }
} else {
  describe(NAME, () => {
    let dir = "";
    let served: Workerd | undefined;
    let base = "";
    let startMs = 0;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "usrv-workerd-"));
      const config = await writeWorker(dir);
      const t0 = performance.now();
      served = new Workerd(bin, config);
      base = `http://127.0.0.1:${await served.listening()}`;
      startMs = performance.now() - t0;
    });

    after(async () => {
      await served?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const get = (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);

    it("serves the bundled entry and reports its port", (t) => {
      assert.ok(served?.running, `not running${served?.tail() ?? ""}`);
      t.diagnostic(`workerd listening after ${Math.round(startMs)} ms: ${bin} serve ${dir}/config.capnp`);
    });

    fetchHandlerChecks(get);

    it("GET /boom -> 500 USRV_ERR_INTERNAL, the error logged to the console (no process in workerd)", async () => {
      const res = await get("/boom");
      const text = await body(res, 500);
      assert.equal((JSON.parse(text) as { code: string }).code, "USRV_ERR_INTERNAL");
      await new Promise((r) => setTimeout(r, 200)); // workerd writes console lines as they come
      assert.match(served!.output, /ERROR:usrv:GET \/boom: 500 \[[0-9a-f-]{36}\]/);
    });

    /** A GET as bytes on the wire: node:http decodes nothing (fetch would undo the coding). */
    const raw = (path: string, acceptEncoding: string) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer }>(
        (resolve, reject) => {
          const req = request(`${base}${path}`, { headers: { "accept-encoding": acceptEncoding } }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }),
            );
            res.on("error", reject);
          });
          req.on("error", reject);
          req.end();
        },
      );

    // usrv/compress without node:zlib: the runtime's CompressionStream, gzip and deflate only
    for (const [path, text] of [
      ["/z/text", JSON.stringify("usrv ".repeat(2000))],
      ["/z/stream", "streamed ".repeat(2000)],
    ] as const) {
      it(`issue 16 item 2: GET ${path} with gzip -> encoded once by CompressionStream, decodes to the body`, async () => {
        const res = await raw(path, "gzip");
        assert.equal(res.status, 200);
        assert.equal(res.headers["content-encoding"], "gzip");
        assert.match(String(res.headers.vary), /Accept-Encoding/);
        assert.ok(res.bytes.length < text.length / 4, `${res.bytes.length} bytes on the wire`);
        const decoded = gunzipSync(res.bytes).toString(); // twice encoded would gunzip to gzip bytes
        assert.ok(
          decoded === text,
          `decoded ${decoded.length} characters: ${JSON.stringify(decoded.slice(0, 40))}`,
        );
      });
    }

    it("issue 16 item 2: GET /z/text with deflate -> zlib-wrapped deflate (RFC 9110 8.4.1.2)", async () => {
      const res = await raw("/z/text", "deflate");
      assert.equal(res.headers["content-encoding"], "deflate");
      assert.equal(inflateSync(res.bytes).toString(), JSON.stringify("usrv ".repeat(2000)));
    });

    it("issue 16 item 2: GET /z/text asking only for br -> sent as it is: no Brotli without node:zlib", async () => {
      const res = await raw("/z/text", "br");
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.bytes.toString(), JSON.stringify("usrv ".repeat(2000)));
    });

    it("is still running after the requests", () => {
      assert.ok(served?.running, `workerd died${served?.tail() ?? ""}`);
    });
  });
}
