/**
 * V14: a route bound with `uploads` reads part heads as a route that reads
 * the body whole does (multipart.ts): the same names, file names, types,
 * text and refusals, the Python client's `form-data; name="x"; ` (recorded
 * in test/fixtures/vectors/usrv-0.4.3-multipart.json) among them, whatever
 * the chunks the body arrives in. Both faces.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { App, ServerHandle } from "usrv";
import { matrix, quietApp } from "./_setup.js";
import { jsonFixture } from "./fixtures/helpers.js";

const root = mkdtempSync(join(tmpdir(), "usrv-uploads-heads-"));
after(() => rmSync(root, { recursive: true, force: true }));

interface Recorded {
  file_name: string;
  file_hex: string;
  requests: { headers: Record<string, string>; body_hex?: string }[];
}
const recorded = jsonFixture<Recorded>("vectors/usrv-0.4.3-multipart.json");
/** The Python client's FormData body, byte for byte as it wrote it: text fields end their disposition with "; ". */
const python = {
  type: recorded.requests[0]!.headers["content-type"]!,
  body: Buffer.from(recorded.requests[0]!.body_hex!, "hex"),
  want: {
    name: "été",
    meta: '{"a":1,"b":"\\u00e9"}',
    file: { filename: recorded.file_name, type: "application/octet-stream", hex: recorded.file_hex },
  },
};

const B = "usrv-test-boundary";
const TYPE = `multipart/form-data; boundary=${B}`;
/** A body from raw part heads and contents (strings written as Latin-1: one byte per character). */
function body(parts: [head: string, content: string][], end = `--${B}--\r\n`): Buffer {
  const text = parts.map(([head, content]) => `--${B}\r\n${head}\r\n\r\n${content}\r\n`).join("");
  return Buffer.from(text + end, "latin1");
}
const utf8 = (s: string) => Buffer.from(s, "utf8").toString("latin1");

/** Binds the same echo twice: `/whole` reads the body whole, `/spooled` spools its files. */
function echoes(app: App, dir: string): void {
  const echo = ({ method, headers, data, ...values }: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      if (typeof v === "string") out[k] = v;
      else {
        const f = v as { filename: string; type: string; data?: Uint8Array; path?: string };
        const bytes = f.data ?? readFileSync(f.path!);
        out[k] = { filename: f.filename, type: f.type, hex: Buffer.from(bytes).toString("hex") };
      }
    }
    return [200, out] as [number, unknown];
  };
  app.bind("/whole", { methods: ["POST"] }, echo);
  app.bind("/spooled", { methods: ["POST"], uploads: { dir } }, echo);
}

/** Status and body, the request's id left out. */
async function answer(res: Response): Promise<[number, unknown]> {
  const got = (await res.json()) as Record<string, unknown>;
  if (got !== null && typeof got === "object" && "requestId" in got) delete got.requestId;
  return [res.status, got];
}

const ok: [string, string] = ['Content-Disposition: form-data; name="ok"', "v"];
// What a route that reads the body whole reads (test/multipart.test.ts), and what it refuses.
const cases: [what: string, body: Buffer, type?: string][] = [
  ["the Python client's FormData (recorded)", python.body, python.type],
  [
    "a text field and a file, each with the Python client's trailing '; '",
    body([
      ['Content-Disposition: form-data; name="x"; ', "v"],
      ['Content-Disposition: form-data; name="f"; filename="a.bin"; \r\nContent-Type: image/png', "\x00\xff"],
    ]),
  ],
  ["a trailing ';'", body([['Content-Disposition: form-data; name="x";', "v"]])],
  ["spaces, case", body([['Content-Disposition: Form-Data ;name="x" ; ', "v"]])],
  ["an unquoted value", body([["Content-Disposition: form-data; name=x", "v"]])],
  ["escapes", body([['Content-Disposition: form-data; name="a\\"b\\\\c"', "v"]])],
  ["a browser's backslash", body([['Content-Disposition: form-data; name="a\\"; filename="b"', "v"]])],
  ["another parameter", body([['Content-Disposition: form-data; name="x"; other="y"', "v"]])],
  ["an empty name", body([['Content-Disposition: form-data; name=""', "v"]])],
  ["a UTF-8 name", body([[`Content-Disposition: form-data; name="${utf8("é")}"`, "v"]])],
  ["a Latin-1 name (the Python client)", body([['Content-Disposition: form-data; name="\xe9"', "v"]])],
  ["a Windows path", body([['Content-Disposition: form-data; name="f"; filename="C:\\x\\y.bin"', "v"]])],
  [
    "filename*",
    body([["Content-Disposition: form-data; name=\"f\"; filename*=iso-8859-1'fr'caf%E9.txt", "v"]]),
  ],
  ["a Latin-1 file name", body([['Content-Disposition: form-data; name="f"; filename="caf\xe9.txt"', "v"]])],
  [
    "octet-stream",
    body([['Content-Disposition: form-data; name="f"\r\nContent-Type: Application/Octet-Stream; x=1', "v"]]),
  ],
  ["a folded line", body([['Content-Disposition: form-data;\r\n name="folded"', "v"]])],
  [
    "other headers",
    body([['content-disposition:form-data; name="x"\r\nX-Other: 1\r\nContent-Transfer-Encoding: 8bit', "v"]]),
  ],
  ["text in Latin-1, no charset", body([['Content-Disposition: form-data; name="x"', "h\xe9llo"]])],
  ["text in UTF-8, no charset", body([['Content-Disposition: form-data; name="x"', utf8("héllo 😀")]])],
  [
    "a declared charset",
    body([
      [
        'Content-Disposition: form-data; name="x"\r\nContent-Type: text/plain; charset=utf-16le',
        "h\x00\xe9\x00",
      ],
    ]),
  ],
  [
    "an unknown charset (415)",
    body([['Content-Disposition: form-data; name="x"\r\nContent-Type: text/plain; charset=klingon', "v"]]),
  ],
  [
    "the last part of a name wins",
    body([
      ['Content-Disposition: form-data; name="x"', "1"],
      ['Content-Disposition: form-data; name="x"; ', "2"],
    ]),
  ],
  [
    "a preamble, padding, no CRLF after the close",
    Buffer.from(
      `a preamble\r\n--${B} \t\r\nContent-Disposition: form-data; name="a"; \r\n\r\nv\r\n--${B}--`,
      "latin1",
    ),
  ],
  ["no parts", Buffer.from(`--${B}--`, "latin1")],
  [
    "256 bytes of padding after a boundary",
    Buffer.from(
      `--${B}${" \t".repeat(128)}\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--${B}--`,
      "latin1",
    ),
  ],
  [
    "257 bytes of padding",
    Buffer.from(
      `--${B}${" ".repeat(257)}\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--${B}--`,
      "latin1",
    ),
  ],
  [
    "17,400 bytes of padding (more than a head may hold)",
    Buffer.from(
      `--${B}${" ".repeat(17_400)}\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--${B}--`,
      "latin1",
    ),
  ],
  ["no Content-Disposition", body([ok, ["Content-Type: text/plain", "v"]])],
  ["not form-data", body([ok, ['Content-Disposition: attachment; name="a"', "v"]])],
  ["no name", body([['Content-Disposition: form-data; filename="a.txt"', "v"]])],
  ["a parameter without a value", body([["Content-Disposition: form-data; name", "v"]])],
  ["an unterminated quote", body([['Content-Disposition: form-data; name="a', "v"]])],
  ["a repeated name", body([['Content-Disposition: form-data; name="a"; name="b"', "v"]])],
  ["a bad filename*", body([['Content-Disposition: form-data; name="f"; filename*=caf%E9', "v"]])],
  [
    "two Content-Disposition headers",
    body([['Content-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"', "v"]]),
  ],
  ["a header line without a colon", body([['Content-Disposition: form-data; name="a"\r\nnonsense', "v"]])],
  [
    "base64",
    body([['Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64', "dg=="]]),
  ],
  [
    "headers over 16 KiB",
    body([[`Content-Disposition: form-data; name="a"\r\nX-Big: ${"x".repeat(17_000)}`, "v"]]),
  ],
  [
    "16,384 bytes of headers (the limit)",
    body([[`Content-Disposition: form-data; name="a"\r\nX-Big: ${"x".repeat(16_384 - 49)}`, "v"]]),
  ],
  [
    "16,385 bytes of headers",
    body([[`Content-Disposition: form-data; name="a"\r\nX-Big: ${"x".repeat(16_385 - 49)}`, "v"]]),
  ],
  [
    "20,000 bytes of headers in one chunk",
    body([[`Content-Disposition: form-data; name="a"\r\nX-Big: ${"x".repeat(20_000)}`, "v"]]),
  ],
  ["an epilogue of 40,000 bytes", body([ok], `--${B}--\r\n${"e".repeat(40_000)}`)],
  ["cut after a head's blank line", Buffer.from(`--${B}\r\n${ok[0]}\r\n\r\n`, "latin1")],
  ["a name over 200 characters", body([[`Content-Disposition: form-data; name="${"n".repeat(201)}"`, "v"]])],
  ["cut inside the headers", Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"`, "latin1")],
  ["cut inside a part", body([ok], "")],
  ["no close delimiter", body([ok], `--${B}`)],
  ["something after a boundary", body([ok], `--${B}xyz\r\n`)],
  ["no boundary line at all", Buffer.from("just text")],
  ["no boundary parameter", body([ok]), "multipart/form-data"],
  ["a boundary of 71 characters", body([ok]), `multipart/form-data; boundary=${"b".repeat(71)}`],
];

{
  const dir = join(root, "matrix");
  mkdirSync(dir);
  matrix(
    "V14: part heads on an uploads route",
    (app) => echoes(app, dir),
    (send) => {
      it("V14: an uploads route binds and refuses every body as a route that reads it whole", async () => {
        for (const [what, b, type = TYPE] of cases) {
          const post = (path: string) =>
            send()(path, { method: "POST", headers: { "content-type": type }, body: b as BodyInit });
          const [whole, spooled] = [await answer(await post("/whole")), await answer(await post("/spooled"))];
          assert.deepEqual(spooled, whole, what);
        }
        const [status, got] = await answer(
          await send()("/spooled", {
            method: "POST",
            headers: { "content-type": python.type },
            body: python.body,
          }),
        );
        assert.deepEqual([status, got], [200, python.want], "the Python client's text fields bind");
      });
    },
  );
}

/** Every way to cut `b` in two, as two chunks. */
const cuts = (b: Buffer) =>
  Array.from({ length: b.length - 1 }, (_, i) => [b.subarray(0, i + 1), b.subarray(i + 1)]);

describe("V14: heads across chunks: the Python client's body cut at every byte, a head that never ends", () => {
  const { app } = quietApp();
  echoes(app, join(root, "cuts"));
  mkdirSync(join(root, "cuts"));
  let server: ServerHandle;
  let arrived: (n: number) => Promise<void>;
  before(async () => {
    server = await app.run({ port: 0 });
    // resolves once the server's sockets have received `n` bytes more than at the call
    let received = 0;
    let waiting: [number, () => void] | undefined;
    server.server.on("connection", (s) =>
      s.on("data", (d: Buffer) => {
        received += d.length;
        if (waiting && received >= waiting[0]) waiting[1]();
      }),
    );
    arrived = (n) => new Promise((resolve) => (waiting = [received + n, resolve]));
  });
  after(() => server.close());

  it("V14: the fetch face: every cut binds the same fields, and one byte a chunk", async () => {
    const bytes = [...python.body].map((byte) => Buffer.of(byte));
    for (const chunks of [...cuts(python.body), bytes]) {
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (const chunk of chunks) c.enqueue(new Uint8Array(chunk!));
          c.close();
        },
      });
      const res = await app.request("/spooled", {
        method: "POST",
        headers: { "content-type": python.type },
        body: stream,
        duplex: "half",
      } as RequestInit);
      const what = chunks.length === 2 ? `cut after byte ${chunks[0]!.length}` : "one byte a chunk";
      assert.deepEqual(await answer(res), [200, python.want], what);
    }
  });

  it("V14: a head that never ends is held to 16 KiB and a little: a 400 past it, the rest never read", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        const chunk =
          pulled === 0 ? `--${B}\r\nContent-Disposition: form-data; name="a"\r\nX: ` : "x".repeat(1024);
        pulled += chunk.length;
        c.enqueue(Buffer.from(chunk));
      },
    });
    const res = await app.request("/spooled", {
      method: "POST",
      headers: { "content-type": TYPE },
      body: endless,
      duplex: "half",
    } as RequestInit);
    const [status, got] = await answer(res);
    assert.equal(status, 400);
    assert.match((got as { message: string }).message, /part 1: its headers are over 16384 bytes/);
    assert.ok(pulled < 64 * 1024, `${pulled} bytes read`);
  });

  it("V14: the Node face (a socket, the second chunk sent once the first has arrived): every cut binds the same fields", async () => {
    const { port } = new URL(server.url);
    for (const [a, b] of cuts(python.body)) {
      const head = Buffer.from(
        `POST /spooled HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${python.type}\r\n` +
          `Content-Length: ${python.body.length}\r\nConnection: close\r\n\r\n`,
      );
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), "127.0.0.1");
        const chunks: Buffer[] = [];
        socket.on("data", (d: Buffer) => chunks.push(d));
        socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        socket.on("error", reject);
        // the head and the first chunk alone on the wire until the server has them
        arrived(head.length + a!.length).then(() => socket.write(b!), reject);
        socket.write(Buffer.concat([head, a!]));
      });
      const [top, text] = raw.split("\r\n\r\n", 2) as [string, string];
      assert.match(top, /^HTTP\/1\.1 200 /, `cut after byte ${a!.length}`);
      assert.deepEqual(JSON.parse(text), python.want, `cut after byte ${a!.length}`);
    }
  });
});
