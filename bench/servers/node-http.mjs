// The anchor: what a careful developer writes on node:http without a framework.
import { createServer } from "node:http";
import { BIG } from "./big.mjs";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);

function json(res, value) {
  const body = JSON.stringify(value);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const statics = new Map([
  ["/hello", () => ({ hello: "world" })],
  ["/big", () => BIG],
]);
const user = /^\/user\/(\d+)$/;
const items = Array.from({ length: 200 }, (_, i) => new RegExp(`^/r${i}/([^/]+)/items/(\\d+)$`));

const server = createServer((req, res) => {
  const q = req.url.indexOf("?");
  const path = q === -1 ? req.url : req.url.slice(0, q);
  const fixed = statics.get(path);
  if (fixed) return json(res, fixed());
  let m = user.exec(path);
  if (m) return json(res, [Number(m[1]), new URLSearchParams(req.url.slice(q + 1)).get("x")]);
  for (let i = 0; i < items.length; i++) {
    if ((m = items[i].exec(path))) return json(res, [i, decodeURIComponent(m[1]), Number(m[2])]);
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end('{"error":"not found"}');
});

if (process.argv[3] === "ws") {
  // the WebSocket anchor: the ws package as its README shows it, on the same server (bench/ws.mjs)
  const { WebSocketServer } = await import("ws");
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, perMessageDeflate: false });
  const room = /^\/ws\/\d+$/;
  server.on("upgrade", (req, socket, head) => {
    if (!room.test(req.url)) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", () => {});
      ws.on("message", (data, isBinary) => ws.send(isBinary ? data : data.toString(), { binary: isBinary }));
    });
  });
}

server.listen(port, "127.0.0.1", () => console.log(`ready http://127.0.0.1:${server.address().port}`));
