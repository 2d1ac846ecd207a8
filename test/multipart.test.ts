/**
 * V8: multipart/form-data bodies (RFC 7578). Every part binds, or the body
 * is a 400 USRV_ERR_BAD_MULTIPART naming the part and why; the Python
 * peer's FormData (recorded in test/fixtures/vectors/usrv-0.4.3-multipart.json)
 * binds whole, text and files byte for byte.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FormData } from "usrv/client";
import { json, matrix, quietApp } from "./_setup.js";
import { jsonFixture } from "./fixtures/helpers.js";

interface Recorded {
  file_name: string;
  file_hex: string;
  requests: {
    name: string;
    method: string;
    path: string;
    headers: Record<string, string>;
    body_hex?: string;
  }[];
}
const recorded = jsonFixture<Recorded>("vectors/usrv-0.4.3-multipart.json");

const B = "usrv-test-boundary";
const TYPE = `multipart/form-data; boundary=${B}`;
/** A body from raw part heads and contents (strings are written as Latin-1: one byte per character). */
function body(parts: [head: string, content: string | Uint8Array][], end = `--${B}--\r\n`): Buffer {
  const chunks: Buffer[] = [];
  for (const [head, content] of parts) {
    chunks.push(Buffer.from(`--${B}\r\n${head}\r\n\r\n`, "latin1"));
    chunks.push(typeof content === "string" ? Buffer.from(content, "latin1") : Buffer.from(content));
    chunks.push(Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(end, "latin1"));
  return Buffer.concat(chunks);
}
const utf8 = (s: string) => Buffer.from(s, "utf8").toString("latin1");

matrix(
  "V8: multipart bodies",
  (app) => {
    app.bind("/upload", { methods: ["POST"] }, ({ method, headers, data, ...values }) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(values)) {
        out[k] =
          typeof v === "string"
            ? v
            : {
                filename: (v as { filename: string }).filename,
                type: (v as { type: string }).type,
                hex: Buffer.from((v as { data: Uint8Array }).data).toString("hex"),
              };
      }
      return [200, out];
    });
    app.bind("/file-bytes", { methods: ["POST"] }, ({ f }) => {
      const data = (f as { data: Uint8Array }).data;
      return [200, Object.getPrototypeOf(data) === Uint8Array.prototype, data.buffer.byteLength, data.length];
    });
  },
  (send) => {
    const post = (b: Uint8Array | string, type = TYPE) =>
      send()("/upload", { method: "POST", headers: { "content-type": type }, body: b as BodyInit });

    it("V8: the Python peer's FormData (recorded) binds every part: text fields, JSON, the file byte for byte", async () => {
      const r = recorded.requests[0]!;
      const res = await send()(r.path, {
        method: r.method,
        headers: r.headers,
        body: Buffer.from(r.body_hex!, "hex"),
      });
      assert.deepEqual(await json(res, 200), {
        name: "été", // written in Latin-1 with no charset: read as Latin-1, as it is not UTF-8
        meta: '{"a":1,"b":"\\u00e9"}',
        file: { filename: recorded.file_name, type: "application/octet-stream", hex: recorded.file_hex },
      });
    });

    it("V8: Content-Disposition as peers write it: a trailing ';', spaces, escapes, unquoted values, filename*", async () => {
      const cases: [head: string, want: Record<string, unknown>][] = [
        ['Content-Disposition: form-data; name="x"; ', { x: "v" }], // the Python peer's text fields
        ['Content-Disposition: form-data; name="x";', { x: "v" }],
        ['Content-Disposition: Form-Data ;name="x" ; ', { x: "v" }],
        ["Content-Disposition: form-data; name=x", { x: "v" }],
        ['Content-Disposition: form-data; name="a\\"b\\\\c"', { 'a"b\\c': "v" }],
        ['Content-Disposition: form-data; name="x"; other="y"', { x: "v" }],
        ['Content-Disposition: form-data; name="a\\"', { "a\\": "v" }], // a browser's a\ (no escape there)
        [
          'Content-Disposition: form-data; name="a\\"; filename="b"',
          { "a\\": { filename: "b", type: "text/plain", hex: "76" } },
        ],
        ['Content-Disposition: form-data; name=""', { "": "v" }],
        [`Content-Disposition: form-data; name="${utf8("é")}"`, { é: "v" }], // browsers: raw UTF-8
        ['Content-Disposition: form-data; name="\xe9"', { é: "v" }], // the Python peer: Latin-1
        [
          'Content-Disposition: form-data; name="f"; filename="C:\\x\\y.bin"',
          { f: { filename: "y.bin", type: "text/plain", hex: "76" } },
        ],
        [
          'Content-Disposition: form-data; name="f"; filename="a.txt"; filename*=UTF-8\'\'caf%C3%A9%20%2B.txt',
          { f: { filename: "café +.txt", type: "text/plain", hex: "76" } },
        ],
        [
          "Content-Disposition: form-data; name=\"f\"; filename*=iso-8859-1'fr'caf%E9.txt",
          { f: { filename: "café.txt", type: "text/plain", hex: "76" } },
        ],
        [
          'Content-Disposition: form-data; name="f"\r\nContent-Type: Application/Octet-Stream; x=1',
          { f: { filename: "", type: "application/octet-stream", hex: "76" } },
        ],
        ['Content-Disposition: form-data;\r\n name="folded"', { folded: "v" }],
        [
          'content-disposition:form-data; name="x"\r\nX-Other: 1\r\nContent-Transfer-Encoding: 8bit',
          { x: "v" },
        ],
      ];
      for (const [head, want] of cases) {
        assert.deepEqual(await json(await post(body([[head, "v"]])), 200), want, head);
      }
    });

    it("V8: field text in the part's declared charset, else UTF-8, else Latin-1 (the Python peer's)", async () => {
      const field = (type: string): [string, string] => [
        `Content-Disposition: form-data; name="x"${type ? `\r\nContent-Type: ${type}` : ""}`,
        "",
      ];
      for (const [type, content, want] of [
        ["", utf8("héllo 😀"), "héllo 😀"],
        ["", "h\xe9llo", "héllo"],
        ["text/plain", "\xe9t\xe9", "été"],
        ["text/plain; charset=iso-8859-1", "caf\xe9", "café"],
        ["text/plain; charset=utf-16le", "h\x00\xe9\x00", "hé"],
        ["text/plain; charset=utf-8", utf8("é"), "é"],
      ] as const) {
        const [head] = field(type);
        assert.deepEqual(await json(await post(body([[head, content]])), 200), { x: want }, type);
      }
      const unknown = (await json(
        await post(body([[field("text/plain; charset=klingon")[0], "v"]])),
        415,
      )) as { code: string; message: string };
      assert.equal(unknown.code, "USRV_ERR_BAD_CHARSET");
      assert.match(unknown.message, /part 1/);
    });

    it("V8: a file's data is a plain Uint8Array of its own bytes, not a view of the whole body", async () => {
      const b = body([
        ['Content-Disposition: form-data; name="a"', "x".repeat(1000)],
        ['Content-Disposition: form-data; name="f"; filename="f.bin"', "\x00\xff\x80"],
      ]);
      const res = await send()("/file-bytes", {
        method: "POST",
        headers: { "content-type": TYPE },
        body: b as BodyInit,
      });
      assert.deepEqual(await json(res, 200), [true, 3, 3]);
    });
    it("V8: a preamble, an epilogue and padding after a boundary are allowed; empty parts bind", async () => {
      const b = Buffer.concat([
        Buffer.from("a preamble\r\n"),
        body([
          ['Content-Disposition: form-data; name="a"', ""],
          ['Content-Disposition: form-data; name="f"; filename="e.txt"', ""],
        ]).subarray(0, -2),
        Buffer.from("  \r\nan epilogue"),
      ]);
      assert.deepEqual(await json(await post(b), 200), {
        a: "",
        f: { filename: "e.txt", type: "text/plain", hex: "" },
      });
      // no CRLF after the close delimiter, as the Python peer writes it; a quoted boundary; padding
      const padded = Buffer.from(
        `--${B} \t\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--${B}--`,
        "latin1",
      );
      assert.deepEqual(await json(await post(padded, `multipart/form-data; boundary="${B}"`), 200), {
        a: "v",
      });
      assert.deepEqual(await json(await post(`--${B}--`), 200), {});
    });

    const refusal = async (b: Uint8Array | string, type = TYPE) => {
      const res = (await json(await post(b, type), 400)) as { code: string; message: string };
      assert.equal(res.code, "USRV_ERR_BAD_MULTIPART");
      return res.message;
    };
    it("V8: the limits hold to the part: 1,000 parts, 100 files, 16 KiB of headers bind; one more is a 400", async () => {
      const field = (i: number): [string, string] => [`Content-Disposition: form-data; name="f${i}"`, "v"];
      const file = (i: number): [string, string] => [
        `Content-Disposition: form-data; name="g${i}"; filename="a"`,
        "w",
      ];
      const fields = (n: number) => Array.from({ length: n }, (_, i) => field(i));
      const files = (n: number) => Array.from({ length: n }, (_, i) => file(i));
      assert.equal(Object.keys((await json(await post(body(fields(1000))), 200)) as object).length, 1000);
      assert.equal(await refusal(body(fields(1001))), "invalid multipart body: more than 1000 parts");
      const many = (await json(await post(body([...fields(900), ...files(100)])), 200)) as Record<
        string,
        unknown
      >;
      assert.deepEqual(many.g99, { filename: "a", type: "text/plain", hex: "77" });
      assert.equal(await refusal(body(files(101))), "invalid multipart body: more than 100 files");
      // the header block, from after the boundary line's CRLF to the blank line
      const head = (n: number) => `Content-Disposition: form-data; name="a"\r\nX-Big: ${"x".repeat(n - 49)}`;
      assert.equal(head(16 * 1024).length, 16 * 1024);
      assert.deepEqual(await json(await post(body([[head(16 * 1024), "v"]])), 200), { a: "v" });
      assert.equal(
        await refusal(body([[head(16 * 1024 + 1), "v"]])),
        "invalid multipart body: part 1: its headers are over 16384 bytes",
      );
      const padded = (n: number) =>
        `--${B}${" ".repeat(n)}\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--${B}--`;
      assert.deepEqual(await json(await post(padded(256)), 200), { a: "v" });
      assert.equal(
        await refusal(padded(257)),
        "invalid multipart body: the boundary line before part 1 has over 256 bytes of padding",
      );
      assert.equal(
        await refusal(body([field(0), [`Content-Disposition: form-data; name="${"n".repeat(201)}"`, "v"]])),
        "invalid multipart body: a part name is over 200 characters",
      );
    });
    it("V8: boundaries as RFC 2046 spells them: 1 to 70 of its characters, a space inside only, any case of the name", async () => {
      const ok = ['Content-Disposition: form-data; name="a"', "v"] as [string, string];
      const framed = (b: string) => Buffer.from(`--${b}\r\n${ok[0]}\r\n\r\nv\r\n--${b}--\r\n`, "latin1");
      for (const [b, type] of [
        ["x", "multipart/form-data; boundary=x"],
        ["b".repeat(70), `multipart/form-data; boundary=${"b".repeat(70)}`],
        ["09azAZ'()+_,./:=?-", 'multipart/form-data; boundary="09azAZ\'()+_,./:=?-"'],
        ["a b", 'multipart/form-data; charset=utf-8;BOUNDARY = "a b"'],
        ["x", "Multipart/Form-Data ;\tboundary=\tx; other=1"],
      ]) {
        assert.deepEqual(await json(await post(framed(b!), type), 200), { a: "v" }, type);
      }
      for (const [b, type] of [
        ["a ", 'multipart/form-data; boundary="a "'],
        ["a@b", "multipart/form-data; boundary=a@b"],
        ["\xe9", 'multipart/form-data; boundary="\xe9"'],
        ["", 'multipart/form-data; boundary=""'],
        ["x", "multipart/form-data; xboundary=x"],
      ]) {
        assert.match(
          await refusal(framed(b!), type),
          /^invalid multipart body: the (boundary is not|Content-Type has no)/,
          type,
        );
      }
    });
    it("V8: a part's transfer encoding may only leave its content as it is (RFC 7578 4.7)", async () => {
      for (const cte of ["7bit", "8BIT", "Binary"]) {
        const b = body([
          [`Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: ${cte}`, "v"],
        ]);
        assert.deepEqual(await json(await post(b), 200), { a: "v" }, cte);
      }
      const qp = body([
        [
          `Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: quoted-printable${"x".repeat(40)}`,
          "v",
        ],
      ]);
      assert.equal(
        await refusal(qp),
        `invalid multipart body: part 1 ("a") is in Content-Transfer-Encoding "quoted-printable${"x".repeat(16)}" (RFC 7578 4.7)`,
      );
      const long = body([
        [
          `Content-Disposition: form-data; name="${"n".repeat(100)}"\r\nContent-Transfer-Encoding: base64`,
          "v",
        ],
      ]);
      assert.match(
        await refusal(long),
        new RegExp(`^invalid multipart body: part 1 \\("${"n".repeat(64)}"\\) is in`),
      );
    });
    it("V8: part headers: each at most once, names in any case, lines ended by CRLF only", async () => {
      const cd = 'Content-Disposition: form-data; name="a"';
      for (const [head, why] of [
        [
          `${cd}\r\nContent-Type: text/plain\r\ncontent-type: text/html`,
          "part 1 has two Content-Type headers",
        ],
        [
          `${cd}\r\nContent-Transfer-Encoding: 8bit\r\nCONTENT-TRANSFER-ENCODING: 8bit`,
          "part 1 has two Content-Transfer-Encoding headers",
        ],
        [`${cd}\nX-Other: 1`, "part 1 has a malformed header line"],
        [`${cd}\r\nX-Other: 1\rX: 2`, "part 1 has a malformed header line"],
        [`${cd}\r\nX Other: 1`, "part 1 has a malformed header line"],
        [`${cd}\r\n: 1`, "part 1 has a malformed header line"],
      ]) {
        assert.equal(await refusal(body([[head!, "v"]])), `invalid multipart body: ${why}`, head);
      }
      // folded over two lines, with a tab; other headers skipped
      const folded = body([
        ['Content-Disposition: form-data;\r\n\tname="a";\r\n  filename="f.txt"\r\nX-Skip: 1', "v"],
      ]);
      assert.deepEqual(await json(await post(folded), 200), {
        a: { filename: "f.txt", type: "text/plain", hex: "76" },
      });
    });
    it("V8: Content-Disposition parameters: names in any case, tabs, unquoted values, RFC 2183 escapes only where they must be", async () => {
      const cases: [head: string, want: Record<string, unknown>][] = [
        [
          'Content-Disposition: form-data; NAME = "a"; FileName="f.txt"',
          { a: { filename: "f.txt", type: "text/plain", hex: "76" } },
        ],
        [
          'Content-Disposition: form-data;\tname="a"\t;\tfilename=f.txt',
          { a: { filename: "f.txt", type: "text/plain", hex: "76" } },
        ],
        [
          "Content-Disposition: form-data; name=x ; filename=f.txt ",
          { x: { filename: "f.txt", type: "text/plain", hex: "76" } },
        ],
        ['Content-Disposition: form-data; name="a\\"b\\x"', { 'a"b\\x': "v" }],
      ];
      for (const [head, want] of cases) {
        assert.deepEqual(await json(await post(body([[head, "v"]])), 200), want, head);
      }
      const cd = "Content-Disposition:";
      for (const [head, why] of [
        [`${cd} form-data`, "part 1 has no name"],
        [`${cd} ; name="a"`, 'part 1 is "", not form-data'],
        [`${cd} ${"x".repeat(40)}; name="a"`, `part 1 is "${"x".repeat(32)}", not form-data`],
        [`${cd} form-data; name`, "part 1's Content-Disposition has a parameter without a value"],
        [`${cd} form-data; a; name="x"`, "part 1's Content-Disposition has a parameter without a value"],
        [`${cd} form-data; name=`, "part 1's Content-Disposition has a parameter without a value"],
        [`${cd} form-data; na me="a"`, "part 1's Content-Disposition has a malformed parameter name"],
        [`${cd} form-data; name="a"b`, "part 1's Content-Disposition has text after a parameter"],
        [
          `${cd} form-data; name="a"; filename*='utf-8''a.txt`,
          "part 1's filename* is not charset'language'percent-encoded",
        ],
        [
          `${cd} form-data; name="a"; filename*=utf-8''%zz`,
          "part 1's filename* is not charset'language'percent-encoded",
        ],
        // a line separator (U+2028, sent as UTF-8) is not part of a percent-encoded value
        [
          `${cd} form-data; name="a"; filename*=utf-8''a${utf8("\u2028")}b`,
          "part 1's filename* is not charset'language'percent-encoded",
        ],
      ]) {
        assert.equal(await refusal(body([[head!, "v"]])), `invalid multipart body: ${why}`, head);
      }
      // headers other than these three may repeat; a body may begin with its first delimiter's CRLF
      const other = body([['Content-Disposition: form-data; name="a"\r\nX-Other: 1\r\nX-Other: 2', "v"]]);
      assert.deepEqual(await json(await post(other), 200), { a: "v" });
      assert.deepEqual(await json(await post(Buffer.concat([Buffer.from("\r\n"), other])), 200), { a: "v" });
    });
    it("V8: the last part of a name wins; a file's type is its media type; filename* keeps a + and names its charset", async () => {
      const b = body([
        ['Content-Disposition: form-data; name="a"', "1"],
        ['Content-Disposition: form-data; name="a"', "2"],
        ['Content-Disposition: form-data; name="f"; filename="x"\r\nContent-Type: Image/PNG; q=1', "p"],
        ["Content-Disposition: form-data; name=\"g\"; filename*=utf-8''a+b%2b.txt", "g"],
      ]);
      assert.deepEqual(await json(await post(b), 200), {
        a: "2",
        f: { filename: "x", type: "image/png", hex: "70" },
        g: { filename: "a+b+.txt", type: "text/plain", hex: "67" },
      });
      const res = (await json(
        await post(body([["Content-Disposition: form-data; name=\"g\"; filename*=klingon''x", "g"]])),
        415,
      )) as { code: string; message: string };
      assert.equal(res.code, "USRV_ERR_BAD_CHARSET");
      assert.equal(
        res.message,
        `part 1's filename* charset "klingon" is not an encoding this server can decode`,
      );
    });
    it("V8: a part that cannot be read is a 400 USRV_ERR_BAD_MULTIPART naming the part and why, never dropped", async () => {
      const ok = ['Content-Disposition: form-data; name="ok"', "v"] as [string, string];
      const cases: [what: string, b: Uint8Array | string, why: RegExp, type?: string][] = [
        [
          "no Content-Disposition",
          body([ok, ["Content-Type: text/plain", "v"]]),
          /part 2 has no Content-Disposition/,
        ],
        [
          "no headers at all",
          body([ok, ["", "v"]])
            .toString("latin1")
            .replace("\r\n\r\n\r\nv", "\r\n\r\nv"),
          /part 2 has no Content-Disposition/,
        ],
        [
          "not form-data",
          body([['Content-Disposition: attachment; name="a"', "v"]]),
          /part 1 is "attachment", not form-data/,
        ],
        ["no name", body([['Content-Disposition: form-data; filename="a.txt"', "v"]]), /part 1 has no name/],
        [
          "a parameter without a value",
          body([["Content-Disposition: form-data; name", "v"]]),
          /part 1.*Content-Disposition/,
        ],
        [
          "an empty value",
          body([["Content-Disposition: form-data; name=", "v"]]),
          /part 1.*Content-Disposition/,
        ],
        [
          "an unterminated quote",
          body([['Content-Disposition: form-data; name="a', "v"]]),
          /part 1.*unterminated/,
        ],
        [
          "text after a quoted value",
          body([['Content-Disposition: form-data; name="a"b', "v"]]),
          /part 1.*Content-Disposition/,
        ],
        [
          "a repeated name",
          body([['Content-Disposition: form-data; name="a"; name="b"', "v"]]),
          /part 1 repeats name/,
        ],
        [
          "a bad filename*",
          body([['Content-Disposition: form-data; name="f"; filename*=caf%E9', "v"]]),
          /part 1.*filename\*/,
        ],
        [
          "two Content-Disposition headers",
          body([
            ['Content-Disposition: form-data; name="a"\r\nContent-Disposition: form-data; name="b"', "v"],
          ]),
          /part 1 has two Content-Disposition/,
        ],
        [
          "a header line without a colon",
          body([['Content-Disposition: form-data; name="a"\r\nnonsense', "v"]]),
          /part 1 has a malformed header line/,
        ],
        [
          "a fold with nothing to fold",
          body([[' Content-Disposition: form-data; name="a"', "v"]]),
          /part 1 has a malformed header line/,
        ],
        [
          "base64 transfer encoding",
          body([['Content-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64', "dg=="]]),
          /part 1.*base64/,
        ],
        [
          "headers over 16 KiB",
          body([[`Content-Disposition: form-data; name="a"\r\nX-Big: ${"x".repeat(17_000)}`, "v"]]),
          /part 1.*headers are over/,
        ],
        [
          "cut inside the headers",
          `--${B}\r\nContent-Disposition: form-data; name="a"`,
          /part 1 is cut inside its headers/,
        ],
        ["cut inside a part", body([ok], ""), /part 1 is cut before its closing boundary/],
        ["no close delimiter", body([ok], `--${B}`), /ends before its closing boundary/],
        ["something after a boundary", body([ok], `--${B}xyz\r\n`), /boundary line.*has more on it/],
        ["no boundary line at all", "just text", /no boundary line/],
        ["no boundary parameter", body([ok]), /no boundary/, "multipart/form-data"],
        [
          "a boundary of 71 characters",
          body([ok]),
          /boundary/,
          `multipart/form-data; boundary=${"b".repeat(71)}`,
        ],
      ];
      for (const [what, b, why, type] of cases) {
        const res = (await json(await post(b, type), 400)) as { code: string; message: string };
        assert.equal(res.code, "USRV_ERR_BAD_MULTIPART", what);
        assert.match(res.message, why, what);
      }
    });
  },
);

describe("V8/C6: the multipart reader against arbitrary input (fast-check)", () => {
  const { app } = quietApp();
  app.bind("/echo-parts", { methods: ["POST"] }, ({ method, headers, data, ...values }) => [
    200,
    Object.entries(values).map(([k, v]) =>
      typeof v === "string"
        ? [k, "text", v]
        : [k, "file", Buffer.from((v as { data: Uint8Array }).data).toString("hex")],
    ),
  ]);
  // Names as browsers and our client write them: no quote or line break (those are %-escaped on the way).
  const name = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/["\r\n%]/.test(s));

  it("C6/V8: what our FormData encodes, the server and FormData.decode read back part for part, byte for byte", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(name, fc.boolean(), fc.uint8Array({ maxLength: 64 })), {
          maxLength: 6,
          selector: ([n]) => n,
        }),
        async (parts) => {
          const form = new FormData();
          for (const [n, isFile, bytes] of parts) {
            if (isFile) form.appendFile(n, new Blob([bytes]), { filename: "f.bin" });
            else form.appendValue(n, Buffer.from(bytes).toString("hex"));
          }
          const { body, contentType } = await form.encode();
          const bytes = new Uint8Array(await body.arrayBuffer());
          const res = await app.request("/echo-parts", {
            method: "POST",
            headers: { "content-type": contentType },
            body: bytes,
          });
          const want = parts.map(([n, isFile, b]) => [
            n,
            isFile ? "file" : "text",
            Buffer.from(b).toString("hex"),
          ]);
          // by name: an object lists integer-like keys ("0") first
          const byName = (a: string[], b: string[]) => (a[0]! < b[0]! ? -1 : 1);
          assert.deepEqual(((await json(res, 200)) as string[][]).sort(byName), want.sort(byName));
          const back = await FormData.decode(bytes, contentType);
          assert.deepEqual(
            back.parts.map((p) => p.name),
            parts.map(([n]) => n),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it("V8: any bytes under a multipart Content-Type: 200 or a 4xx with a code, never a 500 or a throw", async () => {
    const seed = body([
      ['Content-Disposition: form-data; name="a"', "v"],
      [
        'Content-Disposition: form-data; name="f"; filename="x"\r\nContent-Type: text/plain; charset=utf-8',
        "w",
      ],
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(seed.length), fc.integer({ min: 0, max: 255 }), fc.boolean()), {
          maxLength: 8,
        }),
        async (edits) => {
          const b = [...seed];
          for (const [at, byte, insert] of edits) {
            if (insert) b.splice(at, 0, byte);
            else b[at % b.length] = byte;
          }
          const res = await app.request("/echo-parts", {
            method: "POST",
            headers: { "content-type": TYPE },
            body: new Uint8Array(b),
          });
          const text = await res.text();
          if (res.status !== 200) {
            assert.ok([400, 415].includes(res.status), `${res.status}: ${text}`);
            assert.match(JSON.parse(text).code, /^USRV_ERR_BAD_(MULTIPART|CHARSET)$/);
          }
          await FormData.decode(new Uint8Array(b), TYPE).catch((e: { code?: string }) => {
            assert.equal(e.code, "USRV_ERR_CLIENT_BAD_BODY");
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
