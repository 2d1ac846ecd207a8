// Cold start, raw node:http: one route, then a ready line with the URL.
import { createServer } from "node:http";

const server = createServer((req, res) => {
  if (req.url === "/hello") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"hello":"world"}');
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.listen(0, "127.0.0.1", () => console.log(`ready http://127.0.0.1:${server.address().port}`));
