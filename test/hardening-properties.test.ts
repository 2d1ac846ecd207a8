/**
 * Issue 7, item 4: property-based tests (fast-check). The router, the markup
 * converters, the query and body binders and the multipart wrapper: no input
 * throws past the framework (only a 400 HttpError for bad encoding), nothing
 * reaches Object.prototype, and round trips hold. A failure prints the
 * smallest input found and the seed to replay it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { HttpError, Router, registerConverter, type ServerHandle } from "usrv";
import { quietApp } from "./_setup.js";
import { crashWatch, exchange, http } from "./fixtures/hardening-wire.js";

const PROTO = Object.getOwnPropertyNames(Object.prototype).sort();
const crashes = crashWatch();
after(() => crashes.stop());
/** After each run: nothing on Object.prototype, nothing that would have crashed the process. */
function assertNoPollution(): void {
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO);
  crashes.assertNone("this input");
}

// ---- router and converters --------------------------------------------------------------------

type Kind = "static" | "str" | "int" | "float" | "bool" | "uuid";
interface Seg {
  kind: Kind;
  text?: string;
}
/** Matching precedence at one position (router.ts): static, then int, float, bool, uuid, then untyped. */
const RANK: Record<Kind, number> = { static: 0, int: 1, float: 2, bool: 3, uuid: 4, str: 10 };

const segArb: fc.Arbitrary<Seg> = fc.oneof(
  fc.record({
    kind: fc.constant<Kind>("static"),
    text: fc.constantFrom("a", "b", "5", "true", "1.5", "x y", "é", "__proto__"),
  }),
  fc.constantFrom<Kind>("str", "int", "float", "bool", "uuid").map((kind) => ({ kind })),
);
const tableArb = fc.array(fc.array(segArb, { maxLength: 4 }), { minLength: 1, maxLength: 12 });

const pattern = (segs: Seg[]) =>
  `/${segs.map((s, i) => (s.kind === "static" ? s.text : s.kind === "str" ? `<v${i}>` : `<${s.kind}:v${i}>`)).join("/")}`;

/** A segment value for a markup kind: [as it appears in the path, the value the route receives]. */
function valueArb(kind: Kind): fc.Arbitrary<[string, unknown]> {
  switch (kind) {
    case "int":
      return fc.maxSafeInteger().map((n) => [String(n), n]);
    case "float":
      return fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => [String(x), Number(String(x))]); // -0 prints as "0"
    case "bool":
      return fc.constantFrom<[string, unknown]>(["true", true], ["false", false], ["1", true], ["0", false]);
    case "uuid":
      return fc
        .tuple(fc.uuid(), fc.boolean())
        .map(([u, upper]) => [upper ? u.toUpperCase() : u, u.toLowerCase()]);
    default:
      return fc
        .string({ unit: "grapheme", minLength: 1, maxLength: 12 })
        .map((s) => [encodeURIComponent(s), s]);
  }
}

/** A router holding `table` (duplicates skipped), and the patterns that went in. */
function build(table: Seg[][]): { router: Router<number>; added: Seg[][] } {
  const router = new Router<number>();
  const added: Seg[][] = [];
  for (const segs of table) {
    try {
      router.add("GET", pattern(segs), added.length);
      added.push(segs);
    } catch (e) {
      assert.equal((e as Error).name, "EndpointAlreadyDefined");
    }
  }
  return { router, added };
}

/** Lexicographic comparison of precedence ranks: < 0 when `a` is tried before `b`. */
function compare(a: Seg[], b: Seg[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = RANK[a[i]!.kind] - RANK[b[i]!.kind];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** find() returns a Match or a Miss, or throws a 400 HttpError for bad percent-encoding. */
function findSafely<T>(router: Router<T>, path: string): ReturnType<Router<T>["find"]> | "bad encoding" {
  try {
    return router.find("GET", path);
  } catch (e) {
    assert.ok(e instanceof HttpError, `find(${JSON.stringify(path)}) threw ${e}`);
    assert.equal(e.status, 400);
    assert.equal(e.code, "USRV_ERR_BAD_ENCODING");
    return "bad encoding";
  }
}

const rawPathArb = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 30 }).map((s) => `/${s}`),
  fc
    .array(
      fc.constantFrom(
        "/",
        "a",
        "5",
        "-1",
        "1e3",
        ".",
        "..",
        "%",
        "%2",
        "%2F",
        "%zz",
        "%C3%A9",
        "%E0%A4%A",
        "%ED%A0%80",
        "%00",
        "true",
        "é",
        " ",
        "+",
        "__proto__",
      ),
      { maxLength: 12 },
    )
    .map((parts) => `/${parts.join("")}`),
);

describe("issue 7 item 4: properties of the router and the converters", () => {
  it("random tables, random raw paths: find never throws but a 400 for bad encoding", () => {
    fc.assert(
      fc.property(tableArb, rawPathArb, (table, path) => {
        const { router, added } = build(table);
        const r = findSafely(router, path);
        if (r === "bad encoding") return;
        if ("status" in r) assert.ok(r.status === 404 || r.status === 405);
        else assert.ok(r.value >= 0 && r.value < added.length);
      }),
      { numRuns: 500 },
    );
  });

  it("a path built from a route's pattern matches that route with those values, or one tried before it", () => {
    const arb = tableArb.chain((table) => {
      const { added } = build(table);
      return fc.integer({ min: 0, max: Math.max(0, added.length - 1) }).chain((pick) => {
        const segs = added[pick] ?? [];
        return fc.tuple(
          fc.constant(table),
          fc.constant(pick),
          fc.tuple(
            ...segs.map((s) =>
              s.kind === "static"
                ? fc.constant<[string, unknown]>([encodeURIComponent(s.text!), s.text])
                : valueArb(s.kind),
            ),
          ),
          fc.boolean(),
        );
      });
    });
    fc.assert(
      fc.property(arb, ([table, pick, parts, slash]) => {
        const { router, added } = build(table);
        const chosen = added[pick]!;
        const path = `/${parts.map(([raw]) => raw).join("/")}${slash && parts.length > 0 ? "/" : ""}`;
        const r = router.find("GET", path); // built from valid encodings: must not throw
        assert.ok(!("status" in r), `${path} found nothing in ${added.map(pattern).join(" ")}`);
        if (r.value === pick) {
          const want = parts.filter((_, i) => chosen[i]!.kind !== "static").map(([, v]) => v);
          assert.deepEqual(r.values, want);
          assert.deepEqual(
            r.names,
            chosen.flatMap((s, i) => (s.kind === "static" ? [] : [`v${i}`])),
          );
        } else {
          // another route wins only if the router tries it first (static > typed > untyped)
          assert.ok(
            compare(added[r.value]!, chosen) < 0,
            `${pattern(added[r.value]!)} beat ${pattern(chosen)} for ${path}`,
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it("converters: int, float, bool and uuid round trip, and no segment makes one throw", () => {
    registerConverter("hardeningBoom", (s) => {
      if (s.length % 2) throw new Error("a converter that throws");
      return undefined;
    });
    const router = new Router<string>();
    for (const t of ["int", "float", "bool", "uuid", "hardeningBoom"]) router.add("GET", `/${t}/<${t}:v>`, t);
    for (const kind of ["int", "float", "bool", "uuid"] as const) {
      fc.assert(
        fc.property(valueArb(kind), ([raw, value]) => {
          const r = router.find("GET", `/${kind}/${raw}`);
          assert.ok(!("status" in r), `${kind} ${raw}`);
          assert.deepEqual(r.values, [value]);
        }),
        { numRuns: 300 },
      );
    }
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (s) => {
        for (const kind of ["int", "float", "bool", "uuid", "hardeningBoom"]) {
          const r = findSafely(router, `/${kind}/${encodeURIComponent(s)}`);
          assert.notEqual(r, "bad encoding");
          if (r === "bad encoding" || "status" in r) continue;
          const v = r.values[0];
          if (kind === "int") assert.ok(Number.isSafeInteger(v) && /^[+-]?\d+$/.test(s), s);
          if (kind === "float") assert.ok(typeof v === "number" && Number.isFinite(v), s);
          if (kind === "bool") assert.ok(["true", "false", "1", "0"].includes(s), s);
          if (kind === "uuid") assert.equal(v, s.toLowerCase());
          assert.notEqual(kind, "hardeningBoom", "a refusing converter never matches");
        }
      }),
      { numRuns: 500 },
    );
  });
});

// ---- binders and the multipart wrapper, through a running server -------------------------------

const RESERVED = new Set(["method", "headers", "data"]);
const keyArb = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "valueOf",
    "__defineGetter__",
    "polluted",
    "method",
    "headers",
    "data",
    "",
    "a",
    "5",
    "é",
    "a b",
    "&=?",
  ),
  fc.string({ unit: "grapheme", maxLength: 10 }),
);
/** Whether a parsed JSON value holds a `__proto__` key, or a `constructor` holding a `prototype`, anywhere. */
function poisoned(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const own = (o: object, k: string) => Object.hasOwn(o, k);
  if (own(value, "__proto__")) return true;
  const c = (value as { constructor?: unknown }).constructor;
  if (own(value, "constructor") && c !== null && typeof c === "object" && own(c, "prototype")) return true;
  return Object.values(value).some(poisoned);
}

const pairsArb = (value: fc.Arbitrary<unknown>) => fc.array(fc.tuple(keyArb, value), { maxLength: 15 });
const textArb = fc.string({ unit: "grapheme", maxLength: 20 });

/** Last value wins; the request's own method, headers and data are not overridden. */
function lastWins(...sources: [string, unknown][][]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const pairs of sources) {
    const mine = new Map<string, unknown>();
    for (const [k, v] of pairs) mine.set(k, v);
    for (const [k, v] of mine) if (!out.has(k) && !RESERVED.has(k)) out.set(k, v); // an earlier source wins
  }
  return out;
}
const entries = (o: object) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const sorted = (m: Map<string, unknown>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
/** V1: what a query string or form body binds: blank values are dropped (the reference's parse_qsl). */
const nonBlank = (pairs: [string, unknown][]) => pairs.filter(([, v]) => v !== "");
const form = (pairs: [string, unknown][]) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join("&");
/** JSON text with every pair, duplicates kept (JSON.parse keeps the last). */
const jsonText = (pairs: [string, unknown][]) =>
  `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;

const { app, logs } = quietApp();
app.bind("/v", { methods: ["GET", "POST"] }, ({ method, headers, data, ...values }) => [
  200,
  { method, data, values },
]);
app.bind("/up", { methods: ["POST"] }, ({ method, headers, data, ...values }) => {
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(values)) {
    out[k] =
      typeof v === "string"
        ? v
        : {
            filename: (v as { filename: string }).filename,
            type: (v as { type: string }).type,
            data: Buffer.from((v as { data: Uint8Array }).data).toString("base64"),
          };
  }
  return [200, out];
});
let server: ServerHandle;
before(async () => {
  server = await app.run({ port: 0 });
});
after(() => server?.close());

const BODY_CODES = new Set([
  "USRV_ERR_BAD_JSON",
  "USRV_ERR_BAD_UTF8",
  "USRV_ERR_BAD_ENCODING",
  "USRV_ERR_BAD_MULTIPART",
]);

describe("issue 7 item 4: properties of the binders and the multipart wrapper", () => {
  it("query: random keys (__proto__ & co. included) bind as own keys, the last value wins", async () => {
    await fc.assert(
      fc.asyncProperty(pairsArb(textArb), async (pairs) => {
        const res = await app.request(`/v?${form(pairs)}`);
        assert.equal(res.status, 200);
        const body = (await res.json()) as { method: string; data: null; values: object };
        assert.deepEqual(entries(body.values), sorted(lastWins(nonBlank(pairs))));
        assert.equal(body.method, "GET");
        assert.equal(body.data, null);
        assertNoPollution();
      }),
      { numRuns: 200 },
    );
  });

  it("JSON and form bodies: the same, and the query wins over the body", async () => {
    await fc.assert(
      fc.asyncProperty(
        pairsArb(textArb),
        pairsArb(fc.jsonValue()),
        pairsArb(textArb),
        async (query, json, formPairs) => {
          const j = await app.request(`/v?${form(query)}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: jsonText(json),
          });
          if (poisoned(JSON.parse(jsonText(json)))) {
            // V9: a __proto__ key or a constructor.prototype at any depth is refused
            assert.equal(j.status, 400);
            assert.equal(((await j.json()) as { code: string }).code, "USRV_ERR_BAD_JSON");
            return;
          }
          const jb = (await j.json()) as { values: object; data: string };
          // JSON.parse turns -0 into 0 on the way back: compare JSON texts of the values
          assert.deepEqual(
            JSON.parse(JSON.stringify(entries(jb.values))),
            JSON.parse(JSON.stringify(sorted(lastWins(nonBlank(query), json)))),
          );
          assert.equal(jb.data, jsonText(json));
          const f = await app.request("/v", {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: form(formPairs),
          });
          assert.deepEqual(
            entries(((await f.json()) as { values: object }).values),
            sorted(lastWins(nonBlank(formPairs))),
          );
          assertNoPollution();
        },
      ),
      { numRuns: 150 },
    );
  });

  it("raw query strings over a socket: 200, or a JSON 400/414, never a 500", async () => {
    const raw = fc.oneof(
      fc.string({ unit: "grapheme-ascii", maxLength: 60 }),
      fc
        .array(
          fc.constantFrom(
            "a",
            "=",
            "&",
            "%",
            "%2",
            "%zz",
            "%C3%A9",
            "%ED%A0%80",
            "+",
            "__proto__",
            "[",
            "]",
            "constructor",
          ),
          { maxLength: 20 },
        )
        .map((p) => p.join("")),
    );
    await fc.assert(
      fc.asyncProperty(raw, async (q) => {
        const a = await exchange(
          server.port,
          Buffer.from(`GET /v?${q} HTTP/1.1\r\nHost: x\r\n\r\n`, "latin1"),
          {
            closeWithin: 0,
          },
        );
        assert.ok([200, 400].includes(a.status), `${a.status} for ${JSON.stringify(q)}: ${a.body}`);
        if (a.status === 400)
          assert.ok(["USRV_ERR_BAD_ENCODING", "USRV_ERR_BAD_REQUEST"].includes(a.json?.code));
        assertNoPollution();
      }),
      { numRuns: 200 },
    );
  });

  it("random bodies under every content type: 200 or a JSON 400 with a body code, never a 500", async () => {
    const types = fc.constantFrom(
      "application/json",
      "application/ld+json",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=b",
      "multipart/form-data",
      "text/plain",
      "",
    );
    const bodyArb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.json().map((s) => Buffer.from(s)),
      fc
        .string({ unit: "grapheme", maxLength: 100 })
        .map((s) => Buffer.from(`--b\r\nContent-Disposition: form-data; name="f"${s}`)),
    );
    await fc.assert(
      fc.asyncProperty(types, bodyArb, async (type, body) => {
        const a = await exchange(
          server.port,
          http("POST", "/v", type ? { "Content-Type": type } : {}, Buffer.from(body)),
        );
        assert.ok(
          a.status === 200 || (a.status === 400 && BODY_CODES.has(a.json?.code)),
          `${a.status} ${a.body}`,
        );
        assertNoPollution();
      }),
      { numRuns: 300 },
    );
    assert.deepEqual(
      logs.filter((l) => l.startsWith("error:")),
      [],
      "no 500 logged",
    );
  });

  // The platform's FormData follows the HTML spec: it escapes " CR LF in names and file names
  // (as %22 %0D %0A) and writes every line break of a value as CRLF. Names here avoid those three
  // characters; values keep their line breaks and are compared as the spec writes them.
  const nameArb = fc.oneof(
    fc.constantFrom("__proto__", "constructor", "prototype", "a", "é", "x y", "", "f"),
    fc.string({ unit: "grapheme", maxLength: 12 }).filter((s) => !/["\r\n]/.test(s)),
  );
  const filenameArb = fc.oneof(
    fc.constantFrom(
      "../../etc/passwd",
      "..\\..\\win.ini",
      "/abs/x.txt",
      "..",
      ".",
      "a/",
      "C:\\x\\y.bin",
      "ok.txt",
      "é.txt",
    ),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).filter((s) => !/["\r\n]/.test(s)),
  );
  const partArb = fc.oneof(
    fc.record({
      kind: fc.constant("field" as const),
      name: nameArb,
      value: fc.string({ unit: "grapheme", maxLength: 30 }),
    }),
    fc.record({
      kind: fc.constant("file" as const),
      name: nameArb,
      filename: filenameArb,
      type: fc.constantFrom("text/plain", "application/octet-stream", "image/png", ""),
      bytes: fc.uint8Array({ maxLength: 200 }),
    }),
  );
  const baseName = (f: string) => {
    const b = f.split(/[/\\]/).pop() ?? "";
    return b === "." || b === ".." ? "" : b;
  };
  const formData = (parts: fc.Arbitrary<unknown>[] extends never ? never : Array<any>) => {
    const fd = new FormData();
    for (const p of parts) {
      if (p.kind === "field") fd.append(p.name, p.value);
      else fd.append(p.name, new File([p.bytes], p.filename, { type: p.type }));
    }
    return fd;
  };

  it("multipart: random fields and files through the platform FormData round trip (base names only)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(partArb, { maxLength: 12 }), async (parts) => {
        const res = await fetch(`${server.url}/up`, { method: "POST", body: formData(parts) });
        assert.equal(res.status, 200);
        const want = new Map<string, unknown>();
        for (const p of parts) {
          want.set(
            p.name,
            p.kind === "field"
              ? p.value.replace(/\r\n|\r|\n/g, "\r\n")
              : {
                  filename: baseName(p.filename),
                  type: p.type || "application/octet-stream",
                  data: Buffer.from(p.bytes).toString("base64"),
                },
          );
        }
        assert.deepEqual(entries((await res.json()) as object), sorted(want));
        assertNoPollution();
      }),
      { numRuns: 150 },
    );
  });

  it("multipart cut at any byte: 200 or 400 USRV_ERR_BAD_MULTIPART, and the server lives on", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(partArb, { minLength: 1, maxLength: 6 }), fc.nat(), async (parts, at) => {
        const encoded = new Response(formData(parts));
        const bytes = Buffer.from(await encoded.arrayBuffer());
        const cut = bytes.subarray(0, at % (bytes.length + 1)); // any byte, evenly (fc.double favours 0 and 1)
        const a = await exchange(
          server.port,
          http("POST", "/up", { "Content-Type": encoded.headers.get("content-type")! }, cut),
        );
        assert.ok(a.status === 200 || a.json?.code === "USRV_ERR_BAD_MULTIPART", `${a.status} ${a.body}`);
        assertNoPollution();
      }),
      { numRuns: 200 },
    );
    assert.equal((await exchange(server.port, http("GET", "/v"))).status, 200);
  });
});
