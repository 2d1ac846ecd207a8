import { serve } from "@hono/node-server";
import { Hono } from "hono";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const app = new Hono();

if (process.argv[3] === "hooks") {
  app.use(async (_c, next) => {
    await next();
  });
  app.use(async (_c, next) => {
    await next();
  });
}
app.get("/hello", (c) => c.json({ hello: "world" }));
app.get("/user/:id", (c) => c.json([Number(c.req.param("id")), c.req.query("x")]));
for (let i = 0; i < 200; i++) {
  app.get(`/r${i}/:a/items/:b`, (c) => c.json([i, c.req.param("a"), Number(c.req.param("b"))]));
}

serve({ fetch: app.fetch, hostname: "127.0.0.1", port }, (info) => {
  console.log(`ready http://127.0.0.1:${info.port}`);
});
