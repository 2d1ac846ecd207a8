/**
 * S3: the seed's demo routes, as the reference's `route.py` and
 * `wsgi_srv.py` bind them, and the seed README's own examples: served by
 * `npm start` (src/demo.ts) and by `usrv serve` when no bindings are given.
 */
import type { App } from "./app/app.js";

/**
 * Binds the demo routes on an app.
 *
 * @example
 * const app = createApp();
 * bindDemo(app);
 * await app.run({ port: 5000 });
 */
export function bindDemo(app: App): App {
  app.bind("/", { methods: ["HEAD"] }, () => [200]);
  // docs/wire.md: clients fetch the server key here before encrypting for it
  app.bind("/puk", async () => [200, (await app.keypair()).publicKey]);
  app.bind("/vargs", function test1(a: unknown, b: unknown = 1, c: unknown = 0, ...args: unknown[]) {
    return [200, a, b, c, args];
  });
  app.bind("/kwargs", { methods: ["GET", "POST"] }, ({ name, a, b = 2, ...kwargs }) => [
    200,
    name,
    a,
    b,
    kwargs,
  ]);
  // The reference's test3 returns its values without a status: 406 (R3).
  app.bind("/error_406", function test3(a: unknown, b: unknown = 2, ...args: unknown[]) {
    return [a, b, args] as unknown as [number];
  });
  app.bind("/error_500", () => {
    throw new Error("a demo error: the client sees a 500, the log sees this stack");
  });
  return app;
}

/**
 * Binds the seed README's examples: `/test` and `/<int:b>/<a>`.
 *
 * @example
 * bindSeedExamples(createApp()); // GET /test?b=12&a=Paris -> ["Paris","12"]; GET /5/test -> ["test",5]
 */
export function bindSeedExamples(app: App): App {
  app.bind("/test", function do_test(a: unknown, b: unknown) {
    return [200, a, b];
  });
  app.bind("/<int:b>/<a>", function do_test(a: unknown, b: unknown) {
    return [200, a, b];
  });
  return app;
}
