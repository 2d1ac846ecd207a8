import { createApp } from "../../dist/index.js";
import { BIG, STATIC_DIR } from "./big.mjs";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const app = createApp({ logLevel: 40 }); // 40 = errors only, no access log

if (process.argv[3] === "cors") {
  const { cors } = await import("../../dist/middleware/cors.js");
  app.use(cors({ origins: ["https://app.example.com"] }));
}
if (process.argv[3] === "static") {
  const { serveStatic } = await import("../../dist/middleware/static.js");
  app.mount("/static", serveStatic(STATIC_DIR));
}
if (process.argv[3] === "compress") {
  const { compress } = await import("../../dist/middleware/compress.js");
  app.use(compress());
}
if (process.argv[3] === "hooks") {
  app.onRequest(() => {});
  app.onResponse(() => {});
}
if (process.argv[3] === "ws") {
  // a WebSocket route bound (bench/variants.mjs ws: what it costs plain HTTP; bench/ws.mjs: echo)
  app.ws("/ws/<int:room>", { message: (ws, data) => void ws.send(data) });
}
app.bind("/hello", () => [200, { hello: "world" }]);
app.bind("/big", () => [200, BIG]);
// "usrv+zod", "usrv+valibot": route b validates its query (x, a string of 1-64 characters) as Fastify's
// "+schema" does with its JSON schema (ajv)
const variant = process.argv[3];
if (variant === "zod" || variant === "valibot") {
  const query =
    variant === "zod"
      ? (await import("zod")).z.object({ x: (await import("zod")).z.string().min(1).max(64) })
      : await import("valibot").then((v) =>
          v.object({ x: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) }),
        );
  app.bind("/user/<int:id>", { query }, ({ id, x }) => [200, id, x]);
} else app.bind("/user/<int:id>", ({ id, x }) => [200, id, x]);
for (let i = 0; i < 200; i++) app.bind(`/r${i}/<a>/items/<int:b>`, ({ a, b }) => [200, i, a, b]);

// "usrv+h2": the same app on node:http2 as h2c (bench/h2.mjs)
const server = await app.run({ host: "127.0.0.1", port, http2: process.argv[3] === "h2" });
console.log(`ready ${server.url}`);
