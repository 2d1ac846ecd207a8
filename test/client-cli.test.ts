/**
 * C7: `usrv client PEER`, the interactive console, driven through piped
 * stdin and through a pseudo-terminal (`script -qc`) against a real usrv
 * server started here.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ServerHandle } from "usrv";
import { canonicalKey, generateKeypair } from "usrv/secp256k1";
import { quietApp } from "./_setup.js";
import { clientApp } from "./fixtures/client-helpers.js";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const home = mkdtempSync(join(tmpdir(), "usrv-home-"));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with `input` on stdin (written in steps when an array), killed after 15 s. */
function run(
  cmd: string,
  args: string[],
  input: string | string[],
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, USRV_HOME: home, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    const steps = Array.isArray(input) ? [...input] : [input];
    const next = () => {
      const step = steps.shift();
      if (step === undefined) return; // stdin stays open: the console must leave on "exit"
      child.stdin.write(step);
      setTimeout(next, 300);
    };
    if (Array.isArray(input)) next();
    else child.stdin.end(input);
  });
}

describe("C7: usrv client PEER", () => {
  let server: ServerHandle;
  before(async () => {
    server = await (await clientApp()).run({ port: 0 });
  });
  after(() => {
    server.close();
    rmSync(home, { recursive: true, force: true });
  });

  it("C7: piped commands: both keys on connect, calls, typed values, errors, exit", async () => {
    const lines = [
      "help",
      "GET api/endpoint a=12 b=test",
      "GET 5 test",
      `POST fields n=1 s="1" t="two words" u='a  b' v='{"raw"}' o={"k": [1, 2]}`,
      "GET api/endpoint a=process.exit(3) b=__import__('os').system('false')",
      "require('fs')",
      "GET nowhere",
      "GET a/../b",
      "exit",
      "GET api/endpoint a=after-exit",
    ];
    const r = await run(process.execPath, [CLI, "client", server.url], `${lines.join("\n")}\n`);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /^usrv client \d+\.\d+\.\d+\nconnected to http:\/\/127\.0\.0\.1:\d+\n/);
    assert.ok(out.includes(`server public key: ${generateKeypair("server-secret").publicKey}\n`));
    assert.match(out, /client public key: [A-Za-z0-9+/]{86}==\n/);
    assert.ok(out.includes("@<< "), "the prompt");
    assert.match(out, /puk on\|off/);
    assert.ok(out.includes('> ["12","test"]\n'));
    assert.ok(out.includes('> ["test",5]\n'));
    assert.ok(
      out.includes('> {"n":1,"s":"1","t":"two words","u":"a  b","v":"{\\"raw\\"}","o":{"k":[1,2]}}\n'),
      out,
    );
    assert.ok(
      out.includes(`> ["process.exit(3)","__import__('os').system('false')"]\n`),
      "text is never evaluated",
    );
    assert.ok(!out.includes("after-exit"));
    assert.match(r.stderr, /! USRV_ERR_CLIENT_BAD_ARGUMENT: unknown command "require\('fs'\)"/);
    assert.match(r.stderr, /! 404 USRV_ERR_NOT_FOUND/);
    assert.match(r.stderr, /! USRV_ERR_CLIENT_BAD_SEGMENT/);
  });

  it("C7: --puk and `puk on|off` encrypt the calls; the server sees our key", async () => {
    const r = await run(
      process.execPath,
      [CLI, "client", server.url, "--puk"],
      "POST api/endpoint v=1\npuk off\nPOST api/endpoint v=2\nencoder form\nPOST api/endpoint v=3\n",
    );
    assert.equal(r.code, 0, r.stderr);
    // the server names its senders by their canonical key (docs/behaviour.md E1)
    const key = canonicalKey(/client public key: (\S+)/.exec(r.stdout)![1]!);
    assert.ok(r.stdout.includes(`> (decrypted) ["{\\"v\\": 1}","${key}"]\n`), r.stdout);
    assert.ok(r.stdout.includes('> ["{\\"v\\": 2}",null]\n'));
    assert.ok(r.stdout.includes('> ["v=3",null]\n'));
  });

  it("C7: end of input leaves with 0; a peer that is not there is 1; usage errors are 2", async () => {
    assert.equal((await run(process.execPath, [CLI, "client", server.url], "")).code, 0);
    const closed = await (await clientApp()).run({ port: 0 });
    await closed.close();
    const gone = await run(process.execPath, [CLI, "client", closed.url], "");
    assert.equal(gone.code, 1);
    assert.match(
      gone.stderr,
      /^usrv client: peer not available: \S+ \(HEAD \S+: the peer cannot be reached.*\)\n$/,
    );
    const { app } = quietApp(); // answers, but not HEAD /
    const rootless = await app.run({ port: 0 });
    const refused = await run(process.execPath, [CLI, "client", rootless.url], "");
    await rootless.close();
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^usrv client: peer not available: \S+ \(HEAD \S+ answered 404\)\n$/);
    assert.equal((await run(process.execPath, [CLI, "client"], "")).code, 2);
    assert.equal((await run(process.execPath, [CLI, "client", "not a url"], "")).code, 2);
    assert.equal((await run(process.execPath, [CLI, "client", server.url, "--nope"], "")).code, 2);
    const help = await run(process.execPath, [CLI, "client", "--help"], "");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: usrv client PEER/);
  });

  it("C7: bytes print as their text when UTF-8, else as length and hex; forms as their parts; null as null", async () => {
    const { app } = quietApp();
    const bytes = (body: Uint8Array | string, init: ResponseInit = {}) =>
      new Response((typeof body === "string" ? new TextEncoder().encode(body) : body) as BodyInit, init);
    const boundary = "b0undary";
    const form = new Uint8Array([
      ...new TextEncoder().encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n` +
          "Content-Type: application/octet-stream\r\n\r\n",
      ),
      0xff,
      0x00,
      0x01,
      ...new TextEncoder().encode(`\r\n--${boundary}--\r\n`),
    ]);
    app.bind("/", { methods: ["HEAD"] }, () => [200]);
    app.bind("/text", () => bytes("Enjoy é"));
    app.bind("/binary", () => bytes(new Uint8Array([0xff, 0x00, 0x01])));
    app.bind("/long", () => bytes(new Uint8Array(100).fill(0xfe)));
    app.bind("/escape", () => bytes("\u001b[2Jgone"));
    app.bind("/form", () =>
      bytes(form, { headers: { "content-type": `multipart/form-data; boundary=${boundary}` } }),
    );
    app.bind("/nothing", () => [204]);
    app.bind("/broken", () => bytes(new Uint8Array([0xff, 0xfe]), { status: 500 }));
    const up = await app.run({ port: 0 });
    try {
      const r = await run(
        process.execPath,
        [CLI, "client", up.url, "--no-history"],
        "GET text\nGET binary\nGET long\nGET escape\nGET form\nGET nothing\nGET broken\n",
      );
      assert.equal(r.code, 0, r.stderr);
      const answers = r.stdout.split("\n").filter((l) => l.includes("> "));
      assert.deepEqual(
        answers.map((l) => l.slice(l.indexOf("> ") + 2)),
        [
          '"Enjoy é" (8 bytes)',
          "<3 bytes: ff0001>",
          `<100 bytes: ${"fe".repeat(32)}…>`,
          `<${"\u001b[2Jgone".length} bytes: 1b5b324a676f6e65>`,
          'FormData [{"name":"note","value":"hi"},{"name":"file","filename":"a.bin","type":"application/octet-stream","value":"<3 bytes: ff0001>"}]',
          "null",
        ],
      );
      assert.doesNotMatch(r.stdout, /\{"0":/);
      assert.match(r.stderr, /^! 500 {2}<2 bytes: fffe>$/m);
    } finally {
      await up.close();
    }
  });

  const script = spawnSync("script", ["--version"], { encoding: "utf8" });
  it("C7: in a terminal (script -qc): the prompt, and a bounded history file, mode 0600", {
    skip: script.status !== 0 && "no script(1) here",
  }, async () => {
    const file = join(home, "client_history");
    writeFileSync(file, `${Array.from({ length: 600 }, (_, i) => `GET old ${i}`).join("\n")}\n`);
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} client ${server.url}`;
    const r = await run("script", ["-qc", cmd, "/dev/null"], ["GET api/endpoint a=1 b=2\r", "exit\r"], {
      TERM: "xterm",
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes("@<< "));
    assert.ok(r.stdout.includes('> ["1","2"]'));
    const history = readFileSync(file, "utf8").trimEnd().split("\n");
    assert.equal(history.length, 500);
    assert.deepEqual(history.slice(-2), ["GET api/endpoint a=1 b=2", "exit"]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});
