/**
 * B4: the route string is the type. This file is compiled by `tsc` in the
 * test command; any line below that stops holding fails the build.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import {
  type Bound,
  type Context,
  createApp,
  type PathParams,
  type Result,
  type SpooledFile,
  type Values,
  type ValuesOf,
} from "usrv";
import * as v from "valibot";
import { z } from "zod";

const query = z.object({ n: z.coerce.number(), tag: z.string().optional() });
const params = v.object({ id: v.pipe(v.string(), v.transform(Number)) });
const body = z.object({ items: z.array(z.object({ sku: z.string() })) });
type Q = { query: typeof query };

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

export type Cases = [
  Expect<Equal<PathParams<"/<int:b>/<a>">, { b: number; a: string }>>,
  Expect<Equal<PathParams<"/user/<uuid:id>/<float:x>/<bool:on>">, { id: string; x: number; on: boolean }>>,
  Expect<Equal<PathParams<"/files/<int:v>/<path:rest>">, { v: number; rest: string }>>,
  Expect<Equal<PathParams<"/static/path">, {}>>,
  Expect<Equal<PathParams<"/<str:name>">, { name: string }>>,
  Expect<Equal<PathParams<string>, Record<string, unknown>>>,
  Expect<Equal<Values<"/<int:b>">["b"], number>>,
  Expect<Equal<Values<"/<int:b>">["method"], string>>,
  Expect<Equal<Values<"/<int:b>">["data"], string | null>>,
  Expect<Equal<Values<"/<int:b>">["anything"], unknown>>,
  // V10, V11: schemas' outputs type the values; a params schema's beats the path literal's
  Expect<Equal<ValuesOf<"/x", Q>["n"], number>>,
  Expect<Equal<ValuesOf<"/x", Q>["tag"], string | undefined>>,
  Expect<Equal<ValuesOf<"/x", Q>["other"], unknown>>,
  Expect<Equal<ValuesOf<"/u/<id>", { params: typeof params }>["id"], number>>,
  Expect<Equal<ValuesOf<"/u/<int:id>", {}>["id"], number>>,
  Expect<Equal<ValuesOf<"/x", { body: typeof body }>["items"], { sku: string }[]>>,
  Expect<
    Equal<ValuesOf<"/x", { headers: typeof query }>["headers"], { n: number; tag?: string | undefined }>
  >,
  // V13: body: "stream" is no schema: the values stay open, the body comes through ctx.stream
  Expect<Equal<ValuesOf<"/x", { body: "stream" }>["other"], unknown>>,
  Expect<Equal<Context["stream"], ReadableStream<Uint8Array> | null>>,
  Expect<Equal<SpooledFile, { filename: string; type: string; size: number; path: string }>>,
];

it("B4: parameter types flow from the path into the handler", async () => {
  const app = createApp({ logLevel: "silent" });
  app.bind("/<int:b>/<a>", ({ a, b }) => {
    const typed: [string, number] = [a, b]; // compile-time check of the inference
    return [200, typed[0].toUpperCase(), typed[1] + 1];
  });
  // @ts-expect-error a number path value has no string methods
  app.bind("/x/<int:n>", ({ n }) => [200, n.toUpperCase()]);
  // @ts-expect-error a handler returns an array or a Response
  app.bind("/y", () => "200");
  // @ts-expect-error n is a number once the query schema ran
  app.bind("/z", { query }, ({ n }) => [200, n.toUpperCase()]);
  // @ts-expect-error body is a schema or "stream" (and bind refuses it at run time too)
  assert.throws(() => app.bind("/s", { body: "streams" }, () => [200]), /or "stream", not "streams"/);
  const res = await app.request("/5/test");
  assert.deepEqual(await res.json(), ["TEST", 6]);
});

it("C10: bind returns the handler, its answer typed with literal statuses and its options marked", async () => {
  const app = createApp({ logLevel: "silent" });
  const found = app.bind("/u/<int:id>", ({ id }) => (id > 0 ? [200, { id }] : [404, "none"]));
  const late = app.bind("/later", async () => [201]);
  const never = app.bind("/never", () => new Promise(() => {})); // no answer to infer: Result, as before
  const checked = app.bind("/q", { query }, ({ n }) => [200, n]);
  type Answers = [
    Expect<Equal<ReturnType<typeof found>, readonly [200, { readonly id: number }] | readonly [404, "none"]>>,
    Expect<Equal<ReturnType<typeof late>, Promise<readonly [201]>>>,
    Expect<Equal<ReturnType<typeof never>, Promise<Result>>>,
    Expect<Equal<NonNullable<(typeof checked)["~usrv"]>["options"], { readonly query: typeof query }>>,
    Expect<Equal<Bound<{}, () => void>, (() => void) & { readonly "~usrv"?: { readonly options: {} } }>>,
  ];
  const answers: Answers = [true, true, true, true, true];
  assert.equal(found, app.router.entries().find(([, r]) => r.pattern === "/u/<int:id>")?.[1].fn);
  assert.equal(answers.length, 5);
});
