import Fastify from "fastify";
import { BIG, STATIC_DIR } from "./big.mjs";

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
// "fastify+h2": Fastify's http2 mode, h2c (bench/h2.mjs)
const app = Fastify({ logger: false, ...(process.argv[3] === "h2" ? { http2: true } : {}) });

if (process.argv[3] === "cors") {
  await app.register((await import("@fastify/cors")).default, { origin: ["https://app.example.com"] });
}
if (process.argv[3] === "static") {
  await app.register((await import("@fastify/static")).default, { root: STATIC_DIR, prefix: "/static/" });
}
if (process.argv[3] === "compress") {
  await app.register((await import("@fastify/compress")).default, { threshold: 1024 });
}
if (process.argv[3] === "hooks") {
  app.addHook("onRequest", (_req, _reply, done) => done());
  app.addHook("onSend", (_req, _reply, payload, done) => done(null, payload));
}
app.get("/hello", () => ({ hello: "world" }));
app.get("/big", () => BIG);
// "fastify+schema": route b validates its query as usrv's "+zod" and "+valibot" do (ajv, Fastify's default)
const schema =
  process.argv[3] === "schema"
    ? {
        querystring: {
          type: "object",
          properties: { x: { type: "string", minLength: 1, maxLength: 64 } },
          required: ["x"],
        },
      }
    : undefined;
app.get("/user/:id", { schema }, (req) => [Number(req.params.id), req.query.x]);
for (let i = 0; i < 200; i++) {
  app.get(`/r${i}/:a/items/:b`, (req) => [i, req.params.a, Number(req.params.b)]);
}

const url = await app.listen({ host: "127.0.0.1", port });
console.log(`ready ${url}`);
