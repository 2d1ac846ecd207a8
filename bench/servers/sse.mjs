// Event-stream servers for bench/sse-fanout.mjs: every open /events stream gets one event per tick (the
// bench sends POST /tick), so that each framework delivers the same bytes to the same connections.
//   node bench/servers/sse.mjs PORT node-http|usrv|hono
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 0);
const kind = process.argv[3];

// One promise per tick, shared by every stream: what a pub/sub fan-out looks like in a generator.
let fire;
let next = new Promise((r) => (fire = r));
let ticks = 0;
function tick() {
  const f = fire;
  next = new Promise((r) => (fire = r));
  f(++ticks);
}
const ready = (p) => console.log(`ready http://127.0.0.1:${p}`);

if (kind === "node-http") {
  // the anchor: the Set of open answers a careful developer keeps by hand
  const open = new Set();
  createServer((req, res) => {
    if (req.url === "/tick") {
      tick();
      const text = `data: ${ticks}\n\n`;
      for (const r of open) r.write(text);
      return res.end();
    }
    if (req.url !== "/events") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(":\n\n");
    open.add(res);
    res.on("close", () => open.delete(res));
  }).listen(port, "127.0.0.1", function () {
    ready(this.address().port);
  });
} else if (kind === "usrv") {
  const { createApp } = await import("../../dist/index.js");
  const { sse } = await import("../../dist/stream/index.js");
  const app = createApp({ logLevel: 40 });
  app.bind("/tick", { methods: ["POST"] }, () => {
    tick();
    return [204];
  });
  app.bind("/events", { style: "object" }, (_, ctx) =>
    sse(
      ctx,
      (async function* () {
        yield { comment: "" };
        for (;;) yield String(await next);
      })(),
      { maxStreams: 100_000 }, // the bench opens 10,000 by default, streams of the warm-up may still be closing
    ),
  );
  const server = await app.run({ host: "127.0.0.1", port, logLevel: 40 });
  ready(new URL(server.url).port);
} else if (kind === "hono") {
  const { serve } = await import("@hono/node-server");
  const { Hono } = await import("hono");
  const { streamSSE } = await import("hono/streaming");
  const app = new Hono();
  app.post("/tick", (c) => {
    tick();
    return c.body(null, 204);
  });
  app.get("/events", (c) =>
    streamSSE(c, async (stream) => {
      await stream.write(":\n\n");
      for (;;) await stream.writeSSE({ data: String(await next) });
    }),
  );
  serve({ fetch: app.fetch, hostname: "127.0.0.1", port }, (info) => ready(info.port));
} else {
  throw new Error("usage: node bench/servers/sse.mjs PORT node-http|usrv|hono");
}
