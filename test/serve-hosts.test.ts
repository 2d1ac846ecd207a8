/**
 * S3/I2 and S5 across hosts: two `usrv serve` processes (think: two hosts)
 * share a real Redis replay store, then sit behind a real nginx. The test
 * starts its own redis-server and nginx (temp dir, free ports on 127.0.0.1)
 * and stops them at the end. Without redis-server or nginx the suites are
 * skipped with the reason, except under CI, where they fail.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createApp } from "usrv";
import { RedisRateLimitStore, rateLimit } from "usrv/rate-limit";
import { decrypt, encrypt, generateKeypair, sign, verify } from "usrv/secp256k1";
import { RedisReplayStore } from "usrv/stores";
import { freePort, which } from "./fixtures/serve-helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "dist", "cli", "main.js");
const BINDING = join(ROOT, "test", "fixtures", "serve-hosts.mjs");

// ---------------------------------------------------------------- tools

const REDIS = which("redis-server");
const NGINX = which("nginx");
const WRK = which("wrk");
const PACKAGE: Record<string, string> = { "redis-server": "redis-server", nginx: "nginx-light" };

/** Why a suite cannot run here (undefined: it can); under CI a missing tool is a failure, not a skip. */
function missing(tools: Record<string, string | undefined>): string | undefined {
  const absent = Object.keys(tools).filter((name) => tools[name] === undefined);
  if (absent.length === 0) return undefined;
  const reason = `${absent.join(" and ")} not found (Debian: apt-get install ${absent.map((name) => PACKAGE[name] ?? name).join(" ")})`;
  if (process.env.CI) {
    // Let the suite run and fail in before(), with this reason, instead of passing as skipped.
    return undefined;
  }
  return reason;
}

// ---------------------------------------------------------------- processes

interface Proc {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

const DIR = mkdtempSync(join(tmpdir(), "usrv-hosts-"));
// nginx started as root runs its workers as nobody: they must be able to enter the directory.
chmodSync(DIR, 0o755);
const live = new Set<Proc>();
after(() => rmSync(DIR, { recursive: true, force: true }));

function start(cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null)));
    child.once("error", (e) => {
      out += `\n${e.message}`;
      resolve(-2);
    });
  });
  const proc = { child, out: () => out, exit };
  live.add(proc);
  void exit.then(() => live.delete(proc));
  return proc;
}

/** Stops a process with `signal`, then SIGKILL after `ms`; resolves with its exit code. */
async function stop(proc: Proc, signal: NodeJS.Signals = "SIGTERM", ms = 30_000): Promise<number | null> {
  if (!live.has(proc)) return proc.exit;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), ms);
  const code = await proc.exit;
  clearTimeout(timer);
  return code;
}

/** Polls `check` every 50 ms until it is true; fails after `ms`, when `proc` exits first, or when `check` throws. */
async function until(
  what: string,
  ms: number,
  check: () => Promise<boolean> | boolean,
  proc?: Proc,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (proc && !live.has(proc))
      throw new Error(`${what}: the process exited (${await proc.exit}):\n${proc.out()}`);
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > ms)
      throw new Error(`${what}: not within ${ms} ms${proc ? `:\n${proc.out()}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True when a Redis server answers PING on `port`. */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => {
      reply += d;
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

async function startRedis(port: number): Promise<Proc> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    DIR,
  ];
  const proc = start(REDIS!, args);
  await until(`redis-server on ${port}`, GUARD_MS, () => redisPing(port), proc);
  return proc;
}

interface Usrv extends Proc {
  url: string;
  addr: string;
  pid: number;
}

/** `usrv serve -t 1` on a free port, sharing the Redis store; resolves once its banner is out. */
async function startUsrv(redisPort: number): Promise<Usrv> {
  const proc = start(process.execPath, [
    CLI,
    "serve",
    "-t",
    "1",
    "-p",
    "0",
    "-l",
    "40",
    "--identity",
    "secret:server-secret",
    "--replay-store",
    `redis://127.0.0.1:${redisPort}`,
    BINDING,
  ]);
  let url = "";
  await until(
    "usrv serve banner",
    GUARD_MS,
    () => {
      url = /usrv serving on (http:\/\/\S+)/.exec(proc.out())?.[1] ?? "";
      return url !== "";
    },
    proc,
  );
  return { ...proc, url, addr: new URL(url).host, pid: proc.child.pid! };
}

// ---------------------------------------------------------------- encrypted requests

const server = generateKeypair("server-secret");
const client = generateKeypair("client-secret");

let micro = 0;
/** A fresh Nonce in the Python reference's format (microseconds, +00:00). */
function nonce(): string {
  micro = (micro + 1) % 1000;
  return new Date().toISOString().replace("Z", `${String(micro).padStart(3, "0")}+00:00`);
}

/** An encrypted, signed POST as the reference's client builds it; `withNonce: false` leaves the Nonce out. */
function sealed(body: string, withNonce = true): RequestInit {
  const { R, ciphertext } = encrypt(server.publicKey, body);
  const n = withNonce ? nonce() : "";
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "ephemeral-public-key": R,
    "sender-public-key": client.publicKey,
    "sender-signature": sign(ciphertext + R + n, client.privateKey),
  };
  if (withNonce) headers.nonce = n;
  return { method: "POST", headers, body: ciphertext };
}

/** Verifies and decrypts an encrypted answer. */
async function open(res: Response): Promise<unknown> {
  const hex = await res.text();
  const R = res.headers.get("ephemeral-public-key")!;
  assert.equal(res.headers.get("sender-public-key"), server.publicKey);
  assert.ok(verify(hex + R, res.headers.get("sender-signature")!, server.publicKey), "answer signature");
  return JSON.parse(decrypt(client.privateKey, R, hex));
}

/** The error code of a refusal, with its status checked. */
async function code(res: Response, status: number): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (JSON.parse(text) as { code: string }).code;
}

/**
 * Never hang a test on a request. Only a guard, far above any answer's
 * time (a loaded machine once took more than 5 s where a quiet one takes
 * 30 ms): no assertion here depends on the machine's speed.
 */
const GUARD_MS = 60_000;
const send = (url: string, init: RequestInit = {}) =>
  fetch(url, { ...init, signal: AbortSignal.timeout(GUARD_MS) });

// ---------------------------------------------------------------- the suites

describe("S3/I2, S5: usrv serve on several hosts sharing a Redis replay store", {
  skip: missing({ "redis-server": REDIS }),
}, () => {
  let redisPort = 0;
  let redis: Proc;
  let A: Usrv;
  let B: Usrv;

  before(async () => {
    if (!REDIS) throw new Error("redis-server not found: CI must install the Debian package redis-server");
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    [A, B] = await Promise.all([startUsrv(redisPort), startUsrv(redisPort)]);
  });

  after(async () => {
    await Promise.all([...live].map((p) => stop(p)));
  });

  it("S3/I2: the replay check holds across hosts through Redis", async () => {
    const init = sealed('{"n": 1}');
    const first = await send(`${A.url}/echo`, init);
    assert.equal(first.status, 200);
    assert.deepEqual(await open(first), ['{"n": 1}', client.publicKey, A.pid]);

    // the identical request on the other host, and back on the first
    assert.equal(await code(await send(`${B.url}/echo`, init), 412), "USRV_ERR_REPLAY");
    assert.equal(await code(await send(`${A.url}/echo`, init), 412), "USRV_ERR_REPLAY");

    // the same request to both hosts at once: exactly one is served (10 fresh requests)
    for (let i = 0; i < 10; i++) {
      const twin = sealed(`{"twin": ${i}}`);
      const answers = await Promise.all([A, B].map((s) => send(`${s.url}/echo`, twin)));
      assert.deepEqual(answers.map((r) => r.status).sort(), [200, 412], `pair ${i}`);
      for (const r of answers) {
        if (r.status === 412) assert.equal(await code(r, 412), "USRV_ERR_REPLAY");
        else assert.equal(((await open(r)) as unknown[])[0], `{"twin": ${i}}`);
      }
    }
  });

  it("S3/I2: two apps given a RedisReplayStore from usrv/stores share the replay memory", async () => {
    const url = `redis://127.0.0.1:${redisPort}`;
    const stores = [0, 1].map(() => new RedisReplayStore(url, { prefix: "usrv:lib-test:" }));
    const apps = stores.map((replayStore, n) => {
      const app = createApp({ replayStore, logLevel: 50 });
      void app.identify("server-secret");
      app.bind("/echo", { methods: ["POST"] }, (data: unknown) => [200, data, n]);
      return app;
    });
    try {
      const init = sealed('"once"');
      const first = await apps[0]!.request("/echo", init);
      assert.equal(first.status, 200, await first.clone().text());
      assert.deepEqual(await open(first), ['"once"', 0]);
      assert.equal(await code(await apps[1]!.request("/echo", init), 412), "USRV_ERR_REPLAY");
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("issue 16 item 6: two apps given one RedisRateLimitStore share the buckets (one atomic script a request)", async () => {
    // one prefix for both stores (two Date.now() calls may straddle a millisecond: two sets of buckets)
    const prefix = `rl:${Date.now()}:`;
    const stores = [0, 1].map(() => new RedisRateLimitStore(`redis://127.0.0.1:${redisPort}`, { prefix }));
    const apps = stores.map((store) => {
      const app = createApp({ logLevel: 50 });
      app.use(rateLimit({ limit: 3, window: 60_000, key: () => "one client", store }));
      app.bind("/x", () => [200, "ok"]);
      return app;
    });
    try {
      const statuses: number[] = [];
      // at once, on both apps: exactly 3 of 8 pass, whichever app they reach
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => apps[i % 2]!.request("/x")));
      for (const res of answers) {
        statuses.push(res.status);
        await res.body?.cancel();
      }
      assert.deepEqual(statuses.sort(), [200, 200, 200, 429, 429, 429, 429, 429]);
      const limited = answers.find((r) => r.status === 429)!;
      assert.equal(limited.headers.get("retry-after"), "20");
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("S3/I2: Redis frozen, requests with a Nonce fail closed (503) after the store's timeout, never hang", async (t) => {
    // SIGSTOP: the connection stays open but nothing answers, the case where a request could hang
    redis.child.kill("SIGSTOP");
    try {
      const t0 = performance.now();
      const refused = await Promise.all([A, B].map((s) => send(`${s.url}/echo`, sealed("{}"))));
      const ms = performance.now() - t0;
      // answered (not hung until the guard): the store's own timeout refused them
      for (const res of refused) assert.equal(await code(res, 503), "USRV_ERR_REPLAY_STORE");
      t.diagnostic(`frozen Redis: 503 after ${ms.toFixed(0)} ms`);
      const hello = await send(`${A.url}/hello`);
      assert.equal(hello.status, 200);
      await hello.body?.cancel();
    } finally {
      redis.child.kill("SIGCONT");
    }
    const init = sealed('"thawed"');
    await until("nonces accepted after SIGCONT", GUARD_MS, async () => {
      const res = await send(`${A.url}/echo`, sealed("{}"));
      await res.body?.cancel();
      return res.status === 200;
    });
    assert.equal((await send(`${A.url}/echo`, init)).status, 200);
    assert.equal(await code(await send(`${B.url}/echo`, init), 412), "USRV_ERR_REPLAY");
  });

  it("S3/I2: Redis down, requests with a Nonce fail closed (503) at once, plain ones are served; back when Redis is", async (t) => {
    assert.equal(await stop(redis), 0, "redis-server stopped");

    for (const s of [A, B]) {
      // several at once: each is refused quickly, none hangs
      const t0 = performance.now();
      const refused = await Promise.all(Array.from({ length: 5 }, () => send(`${s.url}/echo`, sealed("{}"))));
      const ms = performance.now() - t0;
      for (const res of refused) {
        assert.equal(res.headers.get("retry-after"), "1");
        assert.equal(await code(res, 503), "USRV_ERR_REPLAY_STORE");
      }
      t.diagnostic(`${s.addr}: 5 requests refused (503) in ${ms.toFixed(0)} ms with Redis stopped`);

      // no Nonce, no replay check: served without Redis, in clear and encrypted
      const hello = await send(`${s.url}/hello`);
      assert.equal(hello.status, 200);
      assert.deepEqual(await hello.json(), { hello: "world" });
      const post = await send(`${s.url}/echo`, { method: "POST", body: "plain" });
      assert.equal(post.status, 200);
      assert.deepEqual(await post.json(), ["plain", null, s.pid]);
      const noNonce = await send(`${s.url}/echo`, sealed('"no nonce"', false));
      assert.equal(noNonce.status, 200);
      assert.deepEqual(await open(noNonce), ['"no nonce"', client.publicKey, s.pid]);
    }

    // Redis back on the same port: nonces work again on both hosts within a few seconds
    const t0 = performance.now();
    redis = await startRedis(redisPort);
    for (const s of [A, B]) {
      await until(`${s.addr} accepts a nonce again`, GUARD_MS, async () => {
        const res = await send(`${s.url}/echo`, sealed('"back"'));
        if (res.status !== 200) {
          assert.equal(await code(res, 503), "USRV_ERR_REPLAY_STORE"); // nothing but 503 meanwhile
          return false;
        }
        assert.deepEqual(await open(res), ['"back"', client.publicKey, s.pid]);
        return true;
      });
    }
    const recovered = performance.now() - t0;
    t.diagnostic(
      `Redis restarted: both hosts accept nonces again ${recovered.toFixed(0)} ms after the restart began`,
    );
    // and the shared check is back too
    const init = sealed('"again"');
    assert.equal((await send(`${B.url}/echo`, init)).status, 200);
    assert.equal(await code(await send(`${A.url}/echo`, init), 412), "USRV_ERR_REPLAY");
  });

  describe("S5 several hosts: nginx in front of two usrv servers sharing Redis", {
    skip: missing({ nginx: NGINX }),
  }, () => {
    let nginx: Proc;
    let via = "";
    const accessLog = join(DIR, "access.log");

    before(async () => {
      if (!NGINX) throw new Error("nginx not found: CI must install the Debian package nginx-light");
      const port = await freePort();
      const conf = join(DIR, "nginx.conf");
      writeFileSync(
        conf,
        `daemon off;
worker_processes 1;
pid ${DIR}/nginx.pid;
error_log ${DIR}/error.log warn;
events { worker_connections 1024; }
http {
  log_format hosts '$status $upstream_addr $upstream_status $request_method $uri';
  access_log ${accessLog} hosts;
  client_body_temp_path ${DIR}/client_body;
  proxy_temp_path ${DIR}/proxy;
  fastcgi_temp_path ${DIR}/fastcgi;
  uwsgi_temp_path ${DIR}/uwsgi;
  scgi_temp_path ${DIR}/scgi;
  underscores_in_headers on;
  upstream usrv {
    server ${A.addr};
    server ${B.addr};
    keepalive 32;
    keepalive_timeout 4s; # below usrv's 5 s, so nginx never reuses a connection usrv is closing
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://usrv;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`,
      );
      // -e (nginx >= 1.19.5) keeps nginx off the default /var/log/nginx/error.log before it reads the conf.
      const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(
        spawnSync(NGINX, ["-v"], { encoding: "utf8" }).stderr ?? "",
      );
      const [maj, min, pat] = (version?.slice(1) ?? ["0", "0", "0"]).map(Number) as [number, number, number];
      const hasE = maj > 1 || (maj === 1 && (min > 19 || (min === 19 && pat >= 5)));
      nginx = start(NGINX, [...(hasE ? ["-e", join(DIR, "error.log")] : []), "-p", DIR, "-c", conf]);
      via = `http://127.0.0.1:${port}`;
      await until(
        "nginx",
        GUARD_MS,
        () =>
          send(`${via}/hello`).then(
            (r) => r.status === 200,
            () => false,
          ),
        nginx,
      );
    });

    it("S5: an encrypted request replayed through nginx to the other server is refused", async () => {
      const init = sealed('{"via": "nginx"}');
      const first = await send(`${via}/echo`, init);
      assert.equal(first.status, 200);
      const servedBy = first.headers.get("x-upstream");
      const [data, sender, pid] = (await open(first)) as [string, string, number];
      assert.deepEqual([data, sender], ['{"via": "nginx"}', client.publicKey]);
      const [host, other] = servedBy === A.addr ? [A, B] : [B, A];
      assert.equal(servedBy, host.addr);
      assert.equal(pid, host.pid);

      // round robin: the replays land on the other server (and on this one); all are refused
      const replayedOn = new Set<string | null>();
      for (let i = 0; i < 4; i++) {
        const again = await send(`${via}/echo`, init);
        replayedOn.add(again.headers.get("x-upstream"));
        assert.equal(await code(again, 412), "USRV_ERR_REPLAY");
      }
      assert.ok(replayedOn.has(other.addr), `a replay reached the other server (${[...replayedOn]})`);
    });

    it("S5: a load through nginx loses no request, and both servers take part", async (t) => {
      const logStart = statSync(accessLog).size;
      let served: number;
      if (WRK) {
        // --timeout: wrk counts an answer slower than 2 s (its default) as a socket error
        const run = spawnSync(WRK, ["-t1", "-c20", "-d3s", "--timeout", "30s", `${via}/hello`], {
          encoding: "utf8",
          timeout: GUARD_MS,
        });
        const out = `${run.stdout}${run.stderr}`;
        assert.equal(run.status, 0, out);
        assert.doesNotMatch(out, /Non-2xx or 3xx responses/, out);
        assert.doesNotMatch(out, /Socket errors/, out);
        served = Number(/(\d+) requests in/.exec(out)?.[1]);
        assert.ok(served > 0, out);
        t.diagnostic(
          `wrk -t1 -c20 -d3s through nginx: ${served} requests, ${/Requests\/sec:\s+(\S+)/.exec(out)?.[1]} req/s`,
        );
      } else {
        // no wrk: 2,000 requests, 20 at a time
        const statuses = new Map<string, number>();
        let next = 0;
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            while (next < 2_000) {
              next++;
              const key = await send(`${via}/hello`).then(
                async (r) => `${r.status} ${await r.text()}`,
                (e: Error) => `error ${e.message}`,
              );
              statuses.set(key, (statuses.get(key) ?? 0) + 1);
            }
          }),
        );
        assert.deepEqual([...statuses], [['200 {"hello":"world"}', 2_000]]);
        served = 2_000;
      }

      // nginx's own account: every request it logged was a 200 from one upstream, no retry, both upstreams used
      // (499: wrk closed a connection with a request in flight when its time was up). Only this load's
      // lines: nginx may log the previous test's last requests after their answers reached the client.
      const lines = readFileSync(accessLog, "utf8")
        .slice(logStart)
        .trim()
        .split("\n")
        .filter((l) => l.endsWith(" GET /hello"));
      const per = new Map<string, number>();
      for (const line of lines) {
        const [status, upstream, upstreamStatus] = line.split(" ");
        if (status === "499") continue;
        assert.equal(`${status} ${upstreamStatus}`, "200 200", line);
        assert.ok(!upstream!.includes(","), `no request retried on another upstream: ${line}`);
        per.set(upstream!, (per.get(upstream!) ?? 0) + 1);
      }
      const total = [...per.values()].reduce((a, b) => a + b, 0);
      assert.ok(total >= served, `nginx logged ${total} answers for ${served} requests`);
      assert.deepEqual([...per.keys()].sort(), [A.addr, B.addr].sort());
      for (const [upstream, n] of per) assert.ok(n > total * 0.3, `${upstream} served ${n} of ${total}`);
      t.diagnostic(
        `nginx's access log: ${[...per].map(([u, n]) => `${u} ${n}`).join(", ")}; ${lines.length - total} cut at the end (499)`,
      );

      // and from the outside: both processes answer through nginx
      const pids = new Set<number>();
      for (let i = 0; i < 10; i++) pids.add((await (await send(`${via}/pid`)).json()) as number);
      assert.deepEqual([...pids].sort(), [A.pid, B.pid].sort());
    });

    after(async () => {
      if (nginx) await stop(nginx, "SIGQUIT");
    });
  });
});
