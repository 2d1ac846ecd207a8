// The HTTP/2 anchor (bench/h2.mjs): node:http2's core API (streams, no compatibility layer), h2c, route a only.
import { createServer } from "node:http2";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const body = JSON.stringify({ hello: "world" });

const server = createServer();
server.on("stream", (stream, headers) => {
  if (headers[":path"] === "/hello") {
    stream.respond({
      ":status": 200,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    stream.end(body);
  } else {
    stream.respond({ ":status": 404, "content-type": "application/json" });
    stream.end('{"error":"not found"}');
  }
});
server.listen(port, "127.0.0.1", () => console.log(`ready http://127.0.0.1:${server.address().port}`));
