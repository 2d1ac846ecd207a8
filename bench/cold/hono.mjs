// Cold start, Hono on @hono/node-server: one route, then a ready line with the URL.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.get("/hello", (c) => c.json({ hello: "world" }));
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
  console.log(`ready http://127.0.0.1:${info.port}`);
});
