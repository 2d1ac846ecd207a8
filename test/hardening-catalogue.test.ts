/**
 * Issue 7, item 1: what the internet sends, row by row, over a raw TCP
 * socket so that no client normalises anything. Each row states the bytes,
 * the expected status and error code (or a closed connection for framing
 * attacks); after each row a normal request on a NEW connection must still
 * be answered 200. After the table, nothing reached Object.prototype.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ErrorCode, ServerHandle } from "usrv";
import { encrypt, generateKeypair, sign } from "usrv/secp256k1";
import { quietApp } from "./_setup.js";
import { type Answer, type Bytes, crashWatch, exchange, http } from "./fixtures/hardening-wire.js";

const SERVER_SECRET = "hardening-server";
const server = generateKeypair(SERVER_SECRET);
const client = generateKeypair("hardening-client");
const stranger = generateKeypair("hardening-stranger");
const LIMIT = 1024; // /small's body limit

interface Row {
  name: string;
  /** Built when the row runs (nonces must be fresh). Several parts are sent `gap` ms apart. */
  send: () => Bytes | Bytes[];
  gap?: number;
  /** 0: no answer at all. */
  status: number;
  /** The JSON error code; omitted for 2xx rows. */
  code?: ErrorCode;
  /** The server must close the connection (framing attacks, 413, 431). */
  closed?: true;
  check?: (a: Answer) => void;
}

// ---- builders ---------------------------------------------------------------------------------

const H = "Host: 127.0.0.1\r\n";
const get = (target: string, headers: Record<string, string> = {}) => http("GET", target, headers);
const post = (target: string, body: Bytes, type?: string, headers: Record<string, string> = {}) =>
  http("POST", target, type ? { "Content-Type": type, ...headers } : headers, body);
const chunked = (target: string, ...chunks: string[]) =>
  `POST ${target} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${chunks.join("")}`;

const BOUNDARY = "hardening-boundary";
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
/** A multipart body from raw part heads and contents; `end: false` leaves it unterminated. */
function multipart(parts: [head: string, content: string][], end = true): string {
  const body = parts.map(([head, content]) => `--${BOUNDARY}\r\n${head}\r\n\r\n${content}\r\n`).join("");
  return end ? `${body}--${BOUNDARY}--\r\n` : body;
}
const field = (name: string, value: string): [string, string] => [
  `Content-Disposition: form-data; name="${name}"`,
  value,
];
const file = (name: string, filename: string, content = "data"): [string, string] => [
  `Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: text/plain`,
  content,
];

/** A validly signed request whose Ephemeral-Public-Key is `R` (body "00"). */
function signedWithEphemeral(R: string): Buffer {
  const n = nonce();
  return http(
    "POST",
    "/api/endpoint",
    {
      Nonce: n,
      "Ephemeral-Public-Key": R,
      "Sender-Public-Key": client.publicKey,
      "Sender-Signature": sign(`00${R}${n}`, client.privateKey),
    },
    "00",
  );
}

let micro = 0;
/** The Python reference's nonce format, unique per call. */
function nonce(offsetMs = 0): string {
  micro = (micro + 1) % 1000;
  return new Date(Date.now() + offsetMs)
    .toISOString()
    .replace("Z", `${String(micro).padStart(3, "0")}+00:00`);
}

/** The headers and hex body of an encrypted, signed request, as the reference's client builds it. */
function sealedParts(
  plain: string,
  o: { key?: typeof client; to?: string; nonce?: string; body?: string } = {},
): { headers: Record<string, string>; body: string } {
  const key = o.key ?? client;
  const { R, ciphertext } = encrypt(o.to ?? server.publicKey, plain);
  const body = o.body ?? ciphertext;
  const n = o.nonce ?? nonce();
  return {
    headers: {
      "Content-Type": "application/json",
      Nonce: n,
      "Ephemeral-Public-Key": R,
      "Sender-Public-Key": key.publicKey,
      "Sender-Signature": sign(body + R + n, key.privateKey),
    },
    body,
  };
}
const sealed = (target: string, plain: string, o: Parameters<typeof sealedParts>[1] = {}) => {
  const { headers, body } = sealedParts(plain, o);
  return http("POST", target, headers, body);
};
const withHeaders = (target: string, change: (h: Record<string, string>) => void, plain = "{}") => {
  const { headers, body } = sealedParts(plain);
  change(headers);
  return http("POST", target, headers, body);
};

const ok = (check: (json: any) => void) => (a: Answer) => check(a.json);

// ---- the table --------------------------------------------------------------------------------

const rows: Row[] = [
  // request line and headers: node:http's parser refuses, our clientError handler answers JSON
  {
    name: "not HTTP at all",
    send: () => "GARBAGE\r\n\r\n",
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "unknown HTTP version",
    send: () => `GET /ok HTTP/9.9\r\n${H}\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "method with a forbidden character",
    send: () => `G(T /ok HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "space inside the target",
    send: () => `GET /o k HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "control character in the target",
    send: () => `GET /o\x01k HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "raw byte 0xFF in the target",
    send: () => Buffer.from(`GET /p/\xff HTTP/1.1\r\n${H}\r\n`, "latin1"),
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "raw UTF-8 in the target (must be percent-encoded)",
    send: () => Buffer.from(`GET /p/café HTTP/1.1\r\n${H}\r\n`),
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "target without a leading slash",
    send: () => `GET ok HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "bare LF line endings",
    send: () => "GET /ok HTTP/1.1\nHost: x\n\n",
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "HTTP/1.1 without Host (JSON, not node's empty 400)",
    send: () => "GET /ok HTTP/1.1\r\n\r\n",
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "HTTP/1.0 without Host is fine",
    send: () => "GET /ok HTTP/1.0\r\n\r\n",
    status: 200,
    closed: true,
  },
  {
    name: "header line without a colon",
    send: () => `GET /ok HTTP/1.1\r\n${H}Foo\r\n\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "obsolete line folding",
    send: () => `GET /ok HTTP/1.1\r\n${H}Foo: a\r\n b\r\n\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "NUL in a header value",
    send: () => `GET /ok HTTP/1.1\r\n${H}Foo: a\x00b\r\n\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "whitespace before a header's colon",
    send: () => `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "CONNECT: no tunnel, the connection is dropped",
    send: () => `CONNECT 127.0.0.1:22 HTTP/1.1\r\n${H}\r\n`,
    status: 0,
    closed: true,
  },
  {
    name: "a header named __proto__ (node drops it)",
    send: () => `GET /echo HTTP/1.1\r\n${H}__proto__: polluted\r\nconstructor: x\r\n\r\n`,
    status: 200,
    check: ok((j) => assert.deepEqual(j.values, {})),
  },

  // percent-encoding
  {
    name: "path: truncated escape",
    send: () => get("/p/%E0%A4%A"),
    status: 400,
    code: "USRV_ERR_BAD_ENCODING",
  },
  { name: "path: %zz", send: () => get("/p/%zz"), status: 400, code: "USRV_ERR_BAD_ENCODING" },
  {
    name: "path: overlong UTF-8 for /",
    send: () => get("/p/%C0%AF"),
    status: 400,
    code: "USRV_ERR_BAD_ENCODING",
  },
  {
    name: "path: lone surrogate",
    send: () => get("/p/%ED%A0%80"),
    status: 400,
    code: "USRV_ERR_BAD_ENCODING",
  },
  {
    name: "query: bad value escape",
    send: () => get("/echo?x=%zz"),
    status: 400,
    code: "USRV_ERR_BAD_ENCODING",
  },
  {
    name: "query: bad key escape",
    send: () => get("/echo?%ff=1"),
    status: 400,
    code: "USRV_ERR_BAD_ENCODING",
  },
  {
    name: "path: %00 is data, not a terminator",
    send: () => get("/p/%00"),
    status: 200,
    check: ok((j) => assert.equal(j, "\0")),
  },
  {
    name: "path: %2F stays inside its segment",
    send: () => get("/p/a%2Fb"),
    status: 200,
    check: ok((j) => assert.equal(j, "a/b")),
  },
  {
    name: "path: encoded dot-dot is a value, never a walk",
    send: () => get("/p/%2e%2e"),
    status: 200,
    check: ok((j) => assert.equal(j, "..")),
  },
  {
    name: "absolute-form target (RFC 9112 3.2.2): routed by its path",
    send: () => get("http://example.com/p/abs?x=1"),
    status: 200,
    check: ok((j) => assert.equal(j, "abs")),
  },
  {
    name: "absolute-form target, upper-case scheme",
    send: () => get("HTTP://127.0.0.1/ok"),
    status: 200,
  },
  {
    name: "absolute-form target without a path: /",
    send: () => get("http://example.com"),
    status: 404,
    code: "USRV_ERR_NOT_FOUND",
    check: ok((j) => assert.match(j.message, /GET \/$/)),
  },
  {
    name: "asterisk-form target: no route",
    send: () => get("*"),
    status: 404,
    code: "USRV_ERR_NOT_FOUND",
  },
  {
    name: "path: /p/../ok is not resolved to /ok",
    send: () => get("/p/../ok"),
    status: 404,
    code: "USRV_ERR_NOT_FOUND",
  },

  // sizes
  {
    name: "target of 8 KiB + 1 (app limit)",
    send: () => get(`/ok?${"a".repeat(8 * 1024 - 3)}`),
    status: 414,
    code: "USRV_ERR_URI_TOO_LONG",
  },
  { name: "target of exactly 8 KiB", send: () => get(`/ok?${"a".repeat(8 * 1024 - 4)}`), status: 200 },
  {
    name: "target of 17 KiB (node's head limit)",
    send: () => get(`/ok?${"a".repeat(17 * 1024)}`),
    status: 431,
    code: "USRV_ERR_HEADERS_TOO_LARGE",
    closed: true,
  },
  {
    name: "one 20 KiB header",
    send: () => get("/ok", { "X-Big": "a".repeat(20 * 1024) }),
    status: 431,
    code: "USRV_ERR_HEADERS_TOO_LARGE",
    closed: true,
  },
  {
    name: "3,000 headers (over 16 KiB)",
    send: () => get("/ok", Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`X-H${i}`, "value"]))),
    status: 431,
    code: "USRV_ERR_HEADERS_TOO_LARGE",
    closed: true,
  },
  {
    // (node 20 counts only names and values against the limit and keeps the first 2,000 headers
    // of more; node 24 counts whole lines: the row stays under both)
    name: "1,500 small headers under 16 KiB: answered, every one seen",
    send: () => get("/headers", Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`h${i}`, "1"]))),
    status: 200,
    check: ok((j) => assert.equal(j, 1501)),
  },
  {
    name: "1,000 query keys under 8 KiB",
    send: () => get(`/keys?${Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join("&")}`),
    status: 200,
    check: ok((j) => assert.equal(j.length, 1000)),
  },

  // framing: request smuggling and chunked encoding; 400 and the connection closed
  {
    name: "Content-Length + Transfer-Encoding (CL.TE), a request smuggled behind",
    send: () =>
      `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /ok HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
    check: (a) => assert.equal(a.raw.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, "one answer, nothing smuggled"),
  },
  {
    name: "Transfer-Encoding + Content-Length (TE.CL)",
    send: () => `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "two different Content-Length values",
    send: () => `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "two equal Content-Length values",
    send: () => `POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "Content-Length list 4, 5",
    send: () => `POST /echo HTTP/1.1\r\n${H}Content-Length: 4, 5\r\n\r\nabcde`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "Content-Length -1",
    send: () => `POST /echo HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "Content-Length +3",
    send: () => `POST /echo HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "Content-Length 0x3",
    send: () => `POST /echo HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "Content-Length past 2^64",
    send: () => `POST /echo HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\nabc`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "Transfer-Encoding: identity",
    send: () => `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\nabcd`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "Transfer-Encoding: chunked, gzip (chunked not last)",
    send: () => `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "Transfer-Encoding twice",
    send: () =>
      `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "chunk size zz",
    send: () => chunked("/echo", "zz\r\nabc\r\n0\r\n\r\n"),
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "chunk size -1",
    send: () => chunked("/echo", "-1\r\nabc\r\n0\r\n\r\n"),
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "chunk size past 2^64",
    send: () => chunked("/echo", "FFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"),
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "chunk longer than its size",
    send: () => chunked("/echo", "3\r\nabcXX0\r\n\r\n"),
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "bad chunk after the handler started reading",
    send: () => [chunked("/echo"), "3\r\nabc\r\n", "zz\r\n"],
    gap: 50,
    status: 400,
    code: "USRV_ERR_BAD_REQUEST",
    closed: true,
  },
  {
    name: "chunk extensions and trailers are read past",
    send: () => chunked("/echo", "3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"),
    status: 200,
    check: ok((j) => assert.equal(j.data, "abc")),
  },
  {
    name: "garbage pipelined behind a streamed answer never lands inside it",
    send: () => [get("/stream"), "GARBAGE\r\n\r\n"],
    gap: 100,
    status: 200,
    closed: true,
    check: (a) => {
      assert.equal(a.complete, false, "cut, not completed");
      assert.doesNotMatch(a.raw, /400 Bad Request/);
    },
  },

  // body limits: refused without reading the rest, and the connection closed
  {
    name: "Content-Length 50 MB over a 1 KiB limit, 100 bytes sent",
    send: () => `POST /small HTTP/1.1\r\n${H}Content-Length: 50000000\r\n\r\n${"a".repeat(100)}`,
    status: 413,
    code: "USRV_ERR_BODY_TOO_LARGE",
    closed: true,
  },
  {
    name: "chunked 2 KiB over a 1 KiB limit, never terminated",
    send: () => chunked("/small", `800\r\n${"a".repeat(2048)}\r\n`),
    status: 413,
    code: "USRV_ERR_BODY_TOO_LARGE",
    closed: true,
  },
  {
    name: "chunked, the limit crossed by the 1,025th byte of small chunks",
    send: () => chunked("/small", ...Array.from({ length: 41 }, () => `19\r\n${"a".repeat(25)}\r\n`)),
    status: 413,
    code: "USRV_ERR_BODY_TOO_LARGE",
    closed: true,
  },
  {
    name: "a body of exactly the limit",
    send: () => post("/small", "a".repeat(LIMIT)),
    status: 200,
    check: ok((j) => assert.equal(j, LIMIT)),
  },

  // bodies
  {
    name: "JSON under text/plain: binds nothing, data is the text (200)",
    send: () => post("/echo", '{"a":1}', "text/plain"),
    status: 200,
    check: ok((j) => assert.deepEqual(j, { values: {}, data: '{"a":1}' })),
  },
  {
    name: "invalid JSON",
    send: () => post("/echo", '{"a":1', "application/json"),
    status: 400,
    code: "USRV_ERR_BAD_JSON",
  },
  {
    name: "invalid UTF-8 in a JSON body",
    send: () =>
      post("/echo", Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), "application/json"),
    status: 400,
    code: "USRV_ERR_BAD_UTF8",
  },
  {
    name: "invalid UTF-8 in a form body",
    send: () => post("/echo", Buffer.from([0x61, 0x3d, 0xc3, 0x28]), "application/x-www-form-urlencoded"),
    status: 400,
    code: "USRV_ERR_BAD_UTF8",
  },
  {
    name: "bad escape in a form body",
    send: () => post("/echo", "a=%zz", "application/x-www-form-urlencoded"),
    status: 400,
    code: "USRV_ERR_BAD_ENCODING",
  },
  {
    name: "JSON array nested 200,000 deep: refused before it is parsed (maxDepth 64)",
    send: () => post("/keys", `${"[".repeat(200_000)}${"]".repeat(200_000)}`, "application/json"),
    status: 400,
    code: "USRV_ERR_TOO_DEEP",
  },
  {
    name: "JSON object nested 50,000 deep: refused before it is parsed (maxDepth 64)",
    send: () => post("/keys", `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`, "application/json"),
    status: 400,
    code: "USRV_ERR_TOO_DEEP",
  },
  {
    name: "GET with a body: read and bound",
    send: () => http("GET", "/echo", { "Content-Type": "application/json" }, '{"a":"1"}'),
    status: 200,
    check: ok((j) => assert.deepEqual(j.values, { a: "1" })),
  },

  // prototype pollution: every name is an own key of a prototype-less object
  {
    name: "query: __proto__, constructor, prototype",
    send: () =>
      get(
        "/echo?__proto__=a&constructor=b&prototype=c&__proto__[polluted]=1&constructor[prototype][polluted]=1",
      ),
    status: 200,
    check: ok((j) =>
      assert.deepEqual(Object.keys(j.values), [
        "__proto__",
        "constructor",
        "prototype",
        "__proto__[polluted]",
        "constructor[prototype][polluted]",
      ]),
    ),
  },
  {
    name: "V9: JSON body: __proto__ at the top level",
    send: () => post("/echo", '{"__proto__":{"polluted":1}}', "application/json"),
    status: 400,
    code: "USRV_ERR_BAD_JSON",
  },
  {
    name: "V9: JSON body: __proto__ deep inside (Object.assign would make it a prototype)",
    send: () => post("/echo", '{"opts":{"a":[1,{"__proto__":{"isAdmin":true}}]}}', "application/json"),
    status: 400,
    code: "USRV_ERR_BAD_JSON",
  },
  {
    name: "V9: JSON body: __proto__ spelled with JSON escapes",
    send: () => post("/echo", '{"opts":{"\\u005f_pro\\u0074o__":{"isAdmin":true}}}', "application/json"),
    status: 400,
    code: "USRV_ERR_BAD_JSON",
  },
  {
    name: "V9: JSON body: constructor.prototype deep inside",
    send: () => post("/echo", '{"a":{"constructor":{"prototype":{"polluted":2}}}}', "application/json"),
    status: 400,
    code: "USRV_ERR_BAD_JSON",
  },
  {
    name: "V9: JSON body: keys named constructor and prototype alone are data",
    send: () => post("/echo", '{"constructor":{"a":1},"prototype":{"polluted":3}}', "application/json"),
    status: 200,
    check: ok((j) => assert.deepEqual(Object.keys(j.values), ["constructor", "prototype"])),
  },
  {
    name: "form body: __proto__, constructor, prototype",
    send: () =>
      post("/echo", "__proto__=1&constructor=2&prototype=3&polluted=4", "application/x-www-form-urlencoded"),
    status: 200,
    check: ok((j) =>
      assert.deepEqual(
        j.values,
        JSON.parse('{"__proto__":"1","constructor":"2","prototype":"3","polluted":"4"}'),
      ),
    ),
  },
  {
    name: "multipart: fields named __proto__, constructor, prototype",
    send: () =>
      post(
        "/up",
        multipart([field("__proto__", "1"), field("constructor", "2"), field("prototype", "3")]),
        MULTIPART,
      ),
    status: 200,
    check: ok((j) => assert.deepEqual(Object.keys(j), ["__proto__", "constructor", "prototype"])),
  },
  {
    name: "positional handler: parameters named __proto__ and constructor",
    send: () => get("/positional?__proto__=a&constructor=b&extra=c"),
    status: 200,
    check: ok((j) => assert.deepEqual(j, ["a", "b", ["c"]])),
  },

  // multipart
  {
    name: "file name ../../etc/passwd: base name only",
    send: () => post("/up", multipart([file("f", "../../etc/passwd")]), MULTIPART),
    status: 200,
    check: ok((j) => assert.equal(j.f.filename, "passwd")),
  },
  {
    name: "file name ..\\..\\win.ini: base name only",
    send: () => post("/up", multipart([file("f", "..\\..\\win.ini")]), MULTIPART),
    status: 200,
    check: ok((j) => assert.equal(j.f.filename, "win.ini")),
  },
  {
    name: "file name /etc/cron.d/x: base name only",
    send: () => post("/up", multipart([file("f", "/etc/cron.d/x")]), MULTIPART),
    status: 200,
    check: ok((j) => assert.equal(j.f.filename, "x")),
  },
  {
    name: "file name .. and . become empty",
    send: () => post("/up", multipart([file("f", ".."), file("g", ".")]), MULTIPART),
    status: 200,
    check: ok((j) => assert.deepEqual([j.f.filename, j.g.filename], ["", ""])),
  },
  {
    name: "filename* (RFC 5987) ..%2F..%2Fetc%2Fpasswd: decoded, then base name",
    send: () =>
      post(
        "/up",
        multipart([
          ["Content-Disposition: form-data; name=\"f\"; filename*=utf-8''..%2F..%2Fetc%2Fpasswd", "x"],
        ]),
        MULTIPART,
      ),
    status: 200,
    check: ok((j) => assert.equal(j.f.filename, "passwd")),
  },
  {
    name: 'a part named "" binds under "" (not "undefined")',
    send: () => post("/up", multipart([field("", "v")]), MULTIPART),
    status: 200,
    check: ok((j) => assert.deepEqual(j, { "": "v" })),
  },
  {
    name: "1,001 fields",
    send: () =>
      post("/up", multipart(Array.from({ length: 1001 }, (_, i) => field(`f${i}`, "v"))), MULTIPART),
    status: 400,
    code: "USRV_ERR_BAD_MULTIPART",
  },
  {
    name: "101 files",
    send: () =>
      post("/up", multipart(Array.from({ length: 101 }, (_, i) => file(`f${i}`, "a.txt"))), MULTIPART),
    status: 400,
    code: "USRV_ERR_BAD_MULTIPART",
  },
  {
    name: "1,001 parts (950 fields + 51 files)",
    send: () =>
      post(
        "/up",
        multipart([
          ...Array.from({ length: 950 }, (_, i) => field(`f${i}`, "v")),
          ...Array.from({ length: 51 }, (_, i) => file(`g${i}`, "a")),
        ]),
        MULTIPART,
      ),
    status: 400,
    code: "USRV_ERR_BAD_MULTIPART",
  },
  {
    name: "multipart without a boundary",
    send: () => post("/up", "abc", "multipart/form-data"),
    status: 400,
    code: "USRV_ERR_BAD_MULTIPART",
  },
  {
    name: "multipart cut inside a file part (crashed the process before)",
    send: () =>
      post(
        "/up",
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhello wor`,
        MULTIPART,
      ),
    status: 400,
    code: "USRV_ERR_BAD_MULTIPART",
  },
  {
    name: "multipart field name of 200 characters (the limit)",
    send: () => post("/up", multipart([field("n".repeat(200), "v")]), MULTIPART),
    status: 200,
    check: ok((j) => assert.equal(j["n".repeat(200)], "v")),
  },
  {
    name: "multipart field name of 201 characters",
    send: () => post("/up", multipart([field("n".repeat(201), "v")]), MULTIPART),
    status: 400,
    code: "USRV_ERR_BAD_MULTIPART",
  },
  {
    name: "multipart file part named with 10,000 characters",
    send: () => post("/up", multipart([file("n".repeat(10_000), "a.txt")]), MULTIPART),
    status: 400,
    code: "USRV_ERR_BAD_MULTIPART",
  },
  {
    name: "multipart cut inside a field",
    send: () => post("/up", multipart([field("a", "hello")], false), MULTIPART),
    status: 400,
    code: "USRV_ERR_BAD_MULTIPART",
  },

  // encryption (docs/wire.md): refusals stay in clear
  {
    name: "a well-formed sealed request (control)",
    send: () => sealed("/api/endpoint", '{"a":1}'),
    status: 202,
  },
  {
    name: "Sender-Public-Key not base64",
    send: () => http("POST", "/api/endpoint", { "Sender-Public-Key": "not base64!" }, "{}"),
    status: 400,
    code: "USRV_ERR_BAD_KEY",
  },
  {
    name: "Sender-Public-Key of 3 bytes",
    send: () => get("/api/endpoint", { "Sender-Public-Key": "AAAA" }),
    status: 400,
    code: "USRV_ERR_BAD_KEY",
  },
  {
    name: "Sender-Public-Key off the curve",
    send: () => get("/api/endpoint", { "Sender-Public-Key": Buffer.alloc(64, 7).toString("base64") }),
    status: 400,
    code: "USRV_ERR_BAD_KEY",
  },
  {
    name: "Sender-Public-Key twice (joined by node)",
    send: () =>
      `GET /api/endpoint HTTP/1.1\r\n${H}Sender-Public-Key: ${client.publicKey}\r\nSender-Public-Key: ${client.publicKey}\r\n\r\n`,
    status: 400,
    code: "USRV_ERR_BAD_KEY",
  },
  {
    name: "Sender-Public-Key off the curve in a sealed request",
    send: () =>
      withHeaders("/api/endpoint", (h) => {
        h["Sender-Public-Key"] = Buffer.alloc(64, 7).toString("base64");
      }),
    status: 400,
    code: "USRV_ERR_BAD_KEY",
  },
  {
    name: "Ephemeral-Public-Key not base64, validly signed",
    send: () => signedWithEphemeral("not base64!"),
    status: 400,
    code: "USRV_ERR_BAD_KEY",
  },
  {
    name: "Ephemeral-Public-Key off the curve, validly signed",
    send: () => signedWithEphemeral(Buffer.alloc(64, 7).toString("base64")),
    status: 400,
    code: "USRV_ERR_BAD_KEY",
  },
  {
    name: "signature of the wrong length",
    send: () =>
      withHeaders("/api/endpoint", (h) => {
        h["Sender-Signature"] = "AAAA";
      }),
    status: 401,
    code: "USRV_ERR_BAD_SIGNATURE",
  },
  {
    name: "signature of 200 junk characters",
    send: () =>
      withHeaders("/api/endpoint", (h) => {
        h["Sender-Signature"] = "%$!".repeat(67);
      }),
    status: 401,
    code: "USRV_ERR_BAD_SIGNATURE",
  },
  {
    name: "signature by another key",
    send: () =>
      withHeaders("/api/endpoint", (h) => {
        h["Sender-Public-Key"] = stranger.publicKey;
      }),
    status: 401,
    code: "USRV_ERR_BAD_SIGNATURE",
  },
  {
    name: "encryption headers without a signature",
    send: () =>
      withHeaders("/api/endpoint", (h) => {
        delete h["Sender-Signature"];
      }),
    status: 401,
    code: "USRV_ERR_BAD_SIGNATURE",
  },
  {
    name: "a validly signed body that is not hex",
    send: () => sealed("/api/endpoint", "x", { body: "zz" }),
    status: 400,
    code: "USRV_ERR_DECRYPT",
  },
  {
    name: "a validly signed body of odd-length hex",
    send: () => sealed("/api/endpoint", "x", { body: "abc" }),
    status: 400,
    code: "USRV_ERR_DECRYPT",
  },
  {
    name: "ciphertext made for another key",
    send: () => sealed("/api/endpoint", JSON.stringify({ a: "x".repeat(200) }), { to: stranger.publicKey }),
    status: 400,
    code: "USRV_ERR_DECRYPT",
  },
  {
    name: "Nonce unparseable",
    send: () => sealed("/api/endpoint", "{}", { nonce: "yesterday" }),
    status: 412,
    code: "USRV_ERR_REPLAY",
  },
  {
    name: "Nonce without a UTC offset",
    send: () => sealed("/api/endpoint", "{}", { nonce: "2026-11-24T05:52:02.266283" }),
    status: 412,
    code: "USRV_ERR_REPLAY",
  },
  {
    name: "Nonce that is no date (month 13)",
    send: () => sealed("/api/endpoint", "{}", { nonce: "2026-13-45T25:61:61Z" }),
    status: 412,
    code: "USRV_ERR_REPLAY",
  },
  {
    name: "Nonce 11 s old",
    send: () => sealed("/api/endpoint", "{}", { nonce: nonce(-11_000) }),
    status: 412,
    code: "USRV_ERR_REPLAY",
  },
  {
    name: "Nonce 11 s ahead",
    send: () => sealed("/api/endpoint", "{}", { nonce: nonce(11_000) }),
    status: 412,
    code: "USRV_ERR_REPLAY",
  },
  {
    name: "Nonce of 8 KiB",
    send: () => sealed("/api/endpoint", "{}", { nonce: `${nonce()}${"0".repeat(8192)}` }),
    status: 412,
    code: "USRV_ERR_REPLAY",
  },
  {
    name: "two Nonce headers (joined by node)",
    send: () =>
      `POST /nonce HTTP/1.1\r\n${H}Nonce: ${nonce()}\r\nNonce: ${nonce()}\r\nContent-Length: 0\r\n\r\n`,
    status: 412,
    code: "USRV_ERR_REPLAY",
  },
  {
    name: "plain request to an encrypted-only route",
    send: () => post("/secret", "{}", "application/json"),
    status: 403,
    code: "USRV_ERR_ENCRYPTION_REQUIRED",
  },
  {
    name: "sealed request from a sender not on the allow list",
    send: () => sealed("/vip", "{}", { key: stranger }),
    status: 403,
    code: "USRV_ERR_FORBIDDEN_SENDER",
  },
];

/** Rows that take more than one request: statuses as a sorted multiset. */
const sequences: { name: string; requests: () => Bytes[]; concurrent: boolean; statuses: number[] }[] = [
  {
    name: "a reused nonce: the second is refused (412)",
    requests: () => {
      const r = sealed("/api/endpoint", "{}");
      return [r, r];
    },
    concurrent: false,
    statuses: [202, 412],
  },
  {
    name: "20 concurrent duplicates: exactly one is accepted",
    requests: () => Array(20).fill(sealed("/api/endpoint", "{}")),
    concurrent: true,
    statuses: [202, ...Array(19).fill(412)],
  },
  {
    name: "one nonce, two senders: remembered per sender, both accepted",
    requests: () => {
      const n = nonce();
      return [
        sealed("/api/endpoint", "{}", { nonce: n }),
        sealed("/api/endpoint", "{}", { nonce: n, key: stranger }),
      ];
    },
    concurrent: true,
    statuses: [202, 202],
  },
  {
    name: "unsigned requests with one nonce: remembered per client address",
    requests: () => {
      const n = nonce();
      return [http("POST", "/nonce", { Nonce: n }, ""), http("POST", "/nonce", { Nonce: n }, "")];
    },
    concurrent: false,
    statuses: [200, 412],
  },
];

// ---- the server -------------------------------------------------------------------------------

const { app, logs } = quietApp();
let running: ServerHandle;
const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();

before(async () => {
  await app.identify(SERVER_SECRET);
  app.bind("/ok", () => [200, "ok"]);
  app.bind("/p/<a>", ({ a }) => [200, a]);
  app.bind("/headers", ({ headers }) => [200, Object.keys(headers).length]);
  app.bind("/echo", { methods: ["GET", "POST"] }, ({ method, headers, data, ...values }) => [
    200,
    { values, data },
  ]);
  app.bind("/keys", { methods: ["GET", "POST"] }, ({ method, headers, data, ...values }) => [
    200,
    Object.keys(values),
  ]);
  // biome-ignore lint/suspicious/noShadowRestrictedNames: the row is about parameters with these names
  app.bind("/positional", (__proto__, constructor, ...rest) => {
    return [200, __proto__, constructor, rest.slice(0, -3)]; // rest ends with method, headers, data
  });
  app.bind("/small", { methods: ["POST"], bodyLimit: LIMIT }, ({ data }) => [200, data?.length ?? 0]);
  app.bind("/up", { methods: ["POST"] }, ({ method, headers, data, ...values }) => {
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, v] of Object.entries(values)) {
      out[k] = typeof v === "string" ? v : { ...(v as object), data: undefined };
    }
    return [200, out];
  });
  app.bind("/stream", () => {
    const text = new TextEncoder();
    return new Response(
      new ReadableStream({
        async start(c) {
          c.enqueue(text.encode("part 1,"));
          await new Promise((r) => setTimeout(r, 300));
          c.enqueue(text.encode("part 2"));
          c.close();
        },
      }),
    );
  });
  app.bind("/api/endpoint", { methods: ["GET", "POST"] }, ({ data }, ctx) => [
    202,
    data,
    ctx.senderPublicKey,
  ]);
  app.bind("/secret", { methods: ["POST"], encrypted: true }, ({ data }) => [200, data]);
  app.bind("/vip", { methods: ["POST"], allow: [client.publicKey] }, () => [200, "welcome"]);
  app.bind("/nonce", { methods: ["POST"] }, () => [200]);
  running = await app.run({ port: 0 });
});
const crashes = crashWatch();
after(() => {
  crashes.stop();
  return running?.close();
});

const ERROR_KEYS = new Set(["status", "error", "code", "message", "detail", "requestId"]);

async function followUp(): Promise<void> {
  const a = await exchange(running.port, get("/ok"));
  assert.equal(a.status, 200, `the next request on a new connection: ${a.raw.slice(0, 200)}`);
  assert.equal(a.json, "ok");
}

describe(`issue 7 item 1: the catalogue (${rows.length + sequences.length} rows over raw TCP)`, () => {
  for (const row of rows) {
    it(`${row.name}: ${row.status || "no answer"}${row.code ? ` ${row.code}` : ""}${row.closed ? ", closed" : ""}`, async () => {
      const a = await exchange(running.port, row.send(), {
        gap: row.gap,
        closeWithin: row.closed ? 2000 : undefined,
      });
      assert.equal(a.status, row.status, `status; got:\n${a.raw.slice(0, 400)}`);
      if (row.status >= 400) {
        assert.equal(a.headers["content-type"], "application/json; charset=utf-8");
        assert.equal(a.json?.code, row.code, a.body);
        assert.equal(a.json.status, row.status);
        for (const k of Object.keys(a.json)) assert.ok(ERROR_KEYS.has(k), `unexpected key ${k}`);
        assert.doesNotMatch(a.body, /\n\s+at |node:internal|\.js:\d+/, "no stack in an answer");
      }
      if (row.closed) assert.ok(a.closed, "the server closes the connection");
      row.check?.(a);
      await followUp();
      crashes.assertNone(row.name);
    });
  }

  for (const seq of sequences) {
    it(`${seq.name}: ${seq.statuses.join(", ")}`, async () => {
      const requests = seq.requests();
      const answers: Answer[] = [];
      if (seq.concurrent)
        answers.push(...(await Promise.all(requests.map((r) => exchange(running.port, r)))));
      else for (const r of requests) answers.push(await exchange(running.port, r));
      assert.deepEqual(
        answers.map((a) => a.status).sort(),
        seq.statuses,
        answers.map((a) => a.body).join("\n"),
      );
      for (const a of answers) if (a.status === 412) assert.equal(a.json.code, "USRV_ERR_REPLAY");
      await followUp();
      crashes.assertNone(seq.name);
    });
  }

  it("nothing reached Object.prototype, and no handler failed", () => {
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoBefore);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
    assert.deepEqual(
      logs.filter((l) => l.startsWith("error:")),
      [],
      "no 500 in the whole table",
    );
  });
});
