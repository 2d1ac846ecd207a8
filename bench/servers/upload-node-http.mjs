// bench/upload.mjs's anchor for streamed bodies: node:http counting the body's bytes as they arrive.
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const server = createServer((req, res) => {
  let bytes = 0;
  req.on("data", (chunk) => (bytes += chunk.length));
  req.on("end", () => {
    const body = JSON.stringify({ bytes });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.requestTimeout = 0;
server.listen(port, "127.0.0.1", () => console.log(`ready http://127.0.0.1:${server.address().port}`));
