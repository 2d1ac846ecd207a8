/**
 * Request ids and ctx.log (issue 13, item 6; row O1), on both faces.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { BindError, ConsoleLogger, createApp, type Logger } from "usrv";
import { json, matrix, withoutId } from "./_setup.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

matrix(
  "O1: request ids",
  (app) => {
    app.bind("/id", { style: "object" }, (_, ctx) => [200, ctx.requestId]);
    app.bind("/fail", () => {
      throw new Error("boom");
    });
    app.bind("/log", { style: "object" }, (_, ctx) => {
      ctx.log.warn({ step: 1 }, "from the handler");
      return [200];
    });
  },
  (send, logs, face) => {
    it("O1: a sane incoming x-request-id is kept; in the context and in usrv's error body", async () => {
      const id = "req-0123_ABC.xyz:42";
      assert.equal(await json(await send()("/id", { headers: { "x-request-id": id } }), 200), id);
      const body = withoutId(await json(await send()("/fail", { headers: { "x-request-id": id } }), 500), id);
      assert.equal(body.code, "USRV_ERR_INTERNAL");
      const missing = await send()("/nowhere", { headers: { "x-request-id": id } });
      withoutId(await json(missing, 404), id);
    });
    it("O1: none, or one with a space, a control character, non-ASCII or over 200 characters, is replaced by a UUID", async () => {
      const bad = ["", "has space", "tab\there", "caf\u00e9".normalize(), "x".repeat(201), 'quote"d\\'];
      assert.match(String(await json(await send()("/id"), 200)), UUID);
      for (const id of bad) {
        let headers: Record<string, string>;
        try {
          headers = { "x-request-id": id };
          new Headers(headers);
        } catch {
          continue; // a value fetch itself refuses never reaches a server
        }
        const got = String(await json(await send()("/id", { headers }), 200));
        if (id === 'quote"d\\') assert.equal(got, id, "visible ASCII, quotes too, is kept");
        else assert.match(got, UUID, JSON.stringify(id));
      }
      assert.equal(
        await json(await send()("/id", { headers: { "x-request-id": "y".repeat(200) } }), 200),
        "y".repeat(200),
      );
    });
    it("O1: the edges of visible ASCII: ! (0x21) and ~ (0x7e) are kept, a space (0x20) or DEL (0x7f) replaced", async () => {
      for (const id of ["!", "~", "!abc~", "a\u007e"]) {
        assert.equal(await json(await send()("/id", { headers: { "x-request-id": id } }), 200), id);
      }
      // Node's HTTP/1.1 parser drops a request with DEL in a header before usrv sees it
      for (const id of face === "node" ? ["a b"] : ["a b", "a\u007fb", "\u007f"]) {
        const got = await json(await send()("/id", { headers: { "x-request-id": id } }), 200);
        assert.match(String(got), UUID, JSON.stringify(id));
      }
    });
    it("O1: a request id of 200 printable characters is kept, 201 replaced", async () => {
      const at = "!~".repeat(100);
      assert.equal(await json(await send()("/id", { headers: { "x-request-id": at } }), 200), at);
      const over = `${at}z`;
      assert.match(String(await json(await send()("/id", { headers: { "x-request-id": over } }), 200)), UUID);
    });
    it("O1: two requests without an id get two ids", async () => {
      const a = await json(await send()("/id"), 200);
      const b = await json(await send()("/id"), 200);
      assert.notEqual(a, b);
    });
    it("O1: the log line of a 500 carries the request id; ctx.log's lines do too", async () => {
      await send()("/fail", { headers: { "x-request-id": "find-me-1" } });
      assert.ok(
        logs().some((l) => l.includes("boom") && l.includes("find-me-1")),
        logs().join("\n"),
      );
      await send()("/log", { headers: { "x-request-id": "find-me-2" } });
      assert.ok(
        logs().some((l) => l.startsWith("warn:from the handler") && l.includes("find-me-2")),
        logs().join("\n"),
      );
    });
  },
);

it("O1: bind refuses ctx.requestId read from a positional value: (_, ctx) would get a value named ctx", () => {
  assert.throws(
    () => createApp().bind("/x", (_: unknown, ctx: { requestId: string }) => [200, ctx.requestId]),
    BindError,
  );
});

it("O1: ctx.log is pino's child when the logger has one; the built-in logger ends each line with [id]", async () => {
  const children: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const make = (bindings: Record<string, unknown>): Logger => ({
    debug: () => {},
    info: () => {},
    warn: (obj, msg) => lines.push(`${msg} ${JSON.stringify({ ...bindings, ...obj })}`),
    error: () => {},
    child: (more) => {
      children.push(more);
      return make({ ...bindings, ...more });
    },
  });
  const app = createApp({ logger: make({}) });
  app.bind("/p", { style: "object" }, (_, ctx) => {
    ctx.log.warn({ a: 1 }, "hello");
    return [200];
  });
  await app.request("/p", { headers: { "x-request-id": "pino-1" } });
  assert.deepEqual(children, [{ requestId: "pino-1" }]);
  assert.deepEqual(lines, ['hello {"requestId":"pino-1","a":1}']);

  const written: string[] = [];
  const plain = createApp({ logger: new ConsoleLogger("info", (l) => written.push(l)) });
  plain.bind("/x", { style: "object" }, (_, ctx) => {
    ctx.log.info({}, "inside");
    return [201];
  });
  await plain.request("/x", { headers: { "x-request-id": "line-9" } });
  assert.deepEqual(
    written.map((l) => l.replace(/\d+\.\d{2}ms/, "T")),
    ["INFO:usrv:inside [line-9]\n", "INFO:usrv:GET /x 201 T [line-9]\n"],
  );
});

/** How a JavaScript caller may call it, as pino allows. */
type JsLogger = { info(msg: string): void; debug(msg: string): void };

it("O1: ctx.log takes pino's call forms: a string alone, an object with msg, an object then a message", async () => {
  // a logger without child: ctx.log is usrv's wrapper, which adds the request id
  const calls: unknown[][] = [];
  const bare: Logger = {
    debug: () => {},
    info: (...args: unknown[]) => void calls.push(args),
    warn: () => {},
    error: () => {},
  };
  const wrapped = createApp({ logger: bare });
  wrapped.bind("/w", { style: "object" }, (_, ctx) => {
    (ctx.log as unknown as JsLogger).info("a string alone");
    return [200];
  });
  await wrapped.request("/w", { headers: { "x-request-id": "w-1" } });
  assert.deepEqual(calls[0], [{ requestId: "w-1" }, "a string alone"]);

  const written: string[] = [];
  const app = createApp({ logger: new ConsoleLogger("debug", (l) => written.push(l)) });
  app.bind("/x", { style: "object" }, (_, ctx) => {
    (ctx.log as unknown as JsLogger).info("a string alone");
    ctx.log.warn({ msg: "in the object" });
    ctx.log.error({ msg: "not this", item: 7 }, "the message wins");
    (ctx.log as unknown as JsLogger).debug("line\nforged");
    return [200];
  });
  await app.request("/x", { headers: { "x-request-id": "c-2" } });
  assert.deepEqual(written.slice(0, 4), [
    "INFO:usrv:a string alone [c-2]\n",
    "WARNING:usrv:in the object [c-2]\n",
    "ERROR:usrv:the message wins [c-2]\n",
    "DEBUG:usrv:line\\nforged [c-2]\n",
  ]);
});
