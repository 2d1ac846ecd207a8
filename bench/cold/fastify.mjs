// Cold start, Fastify: one route, then a ready line with the URL.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/hello", () => ({ hello: "world" }));
console.log(`ready ${await app.listen({ host: "127.0.0.1", port: 0 })}`);
