/**
 * V13, V14: memory stays flat while 200 MiB arrive, streamed to a handler or
 * spooled to disk. The server runs in a child process
 * (test/fixtures/upload-server.mjs) whose resident memory is sampled from
 * /proc while the body, generated on the fly, goes through a real socket.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const SERVER = fileURLToPath(new URL("../../test/fixtures/upload-server.mjs", import.meta.url));
const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
/**
 * Half the body: a server that held the 200 MiB would grow past it. What it holds at once is its queues
 * (64 KiB) and socket buffers the collector has not taken back yet; that lag grows on a busy machine
 * (71 MiB once, Node 24 with a busy loop on each core; 34-40 MiB otherwise).
 */
const BOUND = 100 * MiB;

/** Resident memory of `pid` in bytes. */
const rss = (pid: number) =>
  1024 * Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

/**
 * POSTs `head`, then `size` bytes made on the fly (one 64 KiB chunk sent
 * again and again, at the socket's pace), then `tail`, with a Content-Length.
 */
function post(
  port: number,
  path: string,
  type: string,
  head: string,
  size: number,
  tail: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const length = Buffer.byteLength(head) + size + Buffer.byteLength(tail);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: { "content-type": type, "content-length": length },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on("error", reject);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    req.write(head);
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void req.once("drain", pump);
      }
      req.end(tail);
    };
    pump();
  });
}

const BOUNDARY = "usrv-memory-test";
const TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const HEAD = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nbig one\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
const TAIL = `\r\n--${BOUNDARY}--\r\n`;

describe("V13, V14: 200 MiB through a real socket, the server's memory flat (child process, RSS sampled)", () => {
  let child: ChildProcess;
  let port: number;
  let pid: number;
  const dir = mkdtempSync(join(tmpdir(), "usrv-memory-test-"));

  before(async () => {
    child = spawn(process.execPath, [SERVER], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, UPLOAD_DIR: dir },
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`the upload server exited (${code}) before listening`)));
    });
    ({ port, pid } = JSON.parse(line) as { port: number; pid: number });
    // warm up: the spooler and busboy load, the sockets' buffers are made
    assert.equal((await post(port, "/stream", "application/octet-stream", "", MiB, "")).status, 200);
    assert.equal((await post(port, "/spool", TYPE, HEAD, MiB, TAIL)).status, 200);
  });
  after(() => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `upload` while sampling the child's RSS every 10 ms; its growth over the level before. */
  async function growth<T>(upload: () => Promise<T>): Promise<{ result: T; grew: number }> {
    const base = rss(pid);
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, rss(pid));
    }, 10);
    try {
      const result = await upload();
      peak = Math.max(peak, rss(pid));
      return { result, grew: peak - base };
    } finally {
      clearInterval(timer);
    }
  }

  it("V13: a 200 MiB body streamed to the handler: counted whole, RSS growth under half of it", async () => {
    const { result, grew } = await growth(() =>
      post(port, "/stream", "application/octet-stream", "", SIZE, ""),
    );
    assert.equal(result.status, 200, result.body);
    assert.equal(JSON.parse(result.body), SIZE);
    assert.ok(grew < BOUND, `RSS grew by ${(grew / MiB).toFixed(1)} MiB`);
    console.log(`# V13: RSS grew by ${(grew / MiB).toFixed(1)} MiB streaming 200 MiB`);
  });

  it("V14: a 200 MiB file spooled to disk: its size right, RSS growth under half of it, the folder gone", async () => {
    const { result, grew } = await growth(() => post(port, "/spool", TYPE, HEAD, SIZE, TAIL));
    assert.equal(result.status, 200, result.body);
    assert.deepEqual(JSON.parse(result.body), { note: "big one", file: SIZE });
    assert.ok(grew < BOUND, `RSS grew by ${(grew / MiB).toFixed(1)} MiB`);
    assert.deepEqual(readdirSync(dir), [], "the spooled folder is removed once answered");
    console.log(`# V14: RSS grew by ${(grew / MiB).toFixed(1)} MiB spooling 200 MiB`);
  });
});
