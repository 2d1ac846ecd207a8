/**
 * OpenTelemetry spans (issue 13, item 6; row O2) through usrv/otel, with the
 * OTel SDK's in-memory exporter, on both faces.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { it } from "node:test";
import { propagation, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { createApp, HttpError, type OnRequest } from "usrv";
import { spanOf, tracing } from "usrv/otel";
import WebSocket from "ws";
import { json, matrix } from "./_setup.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const hooks = await tracing({ tracer: provider.getTracer("test") });

matrix(
  "O2: OpenTelemetry spans",
  (app) => {
    app.bind("/user/<int:id>", { style: "object" }, ({ id }, ctx) => [200, id, spanOf(ctx) !== undefined]);
    app.bind("/boom", () => {
      throw new Error("kaput");
    });
    app.bind("/denied", () => [401, "who are you?"]);
    app.bind("/thrown-404", () => {
      throw new HttpError("USRV_ERR_NOT_FOUND", "no such order");
    });
    app.bind("/slow", { timeout: 50 }, () => new Promise(() => {}));
  },
  (send) => {
    it("O2: one server span per request, named by the route pattern, with the HTTP attributes", async () => {
      exporter.reset();
      assert.deepEqual(await json(await send()("/user/42", { headers: { "x-request-id": "otel-1" } }), 200), [
        42,
        true,
      ]);
      const [span, ...more] = exporter.getFinishedSpans();
      assert.equal(more.length, 0);
      assert.equal(span!.name, "GET /user/<int:id>");
      assert.equal(span!.kind, SpanKind.SERVER);
      assert.deepEqual(span!.attributes, {
        "http.request.method": "GET",
        "url.path": "/user/42",
        "http.route": "/user/<int:id>",
        "usrv.request_id": "otel-1",
        "http.response.status_code": 200,
      });
    });
    it("O2: a request's traceparent is the span's parent", async () => {
      exporter.reset();
      const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
      await send()("/user/1", { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
      const [span] = exporter.getFinishedSpans();
      assert.equal(span!.spanContext().traceId, trace);
      assert.equal(span!.parentSpanContext?.spanId, "00f067aa0ba902b7");
    });
    it("O2: a 500 sets the error status and records the exception; a 404 is named by its method only", async () => {
      exporter.reset();
      await send()("/boom");
      await send()("/nowhere");
      const [boom, missing] = exporter.getFinishedSpans();
      assert.equal(boom!.status.code, SpanStatusCode.ERROR);
      assert.equal(boom!.events[0]?.name, "exception");
      assert.equal(boom!.attributes["http.response.status_code"], 500);
      assert.equal(missing!.name, "GET");
      assert.equal(missing!.attributes["http.route"], undefined);
      assert.equal(missing!.attributes["http.response.status_code"], 404);
    });
    it("O2: usrv's 4xx answers record no exception: a 404, a handler's [401], a thrown HttpError 404", async () => {
      exporter.reset();
      for (const path of ["/nowhere", "/denied", "/thrown-404"]) await send()(path);
      const spans = exporter.getFinishedSpans();
      assert.deepEqual(
        spans.map((s) => [s.attributes["http.response.status_code"], s.events.length, s.status.code]),
        [
          [404, 0, SpanStatusCode.UNSET],
          [401, 0, SpanStatusCode.UNSET],
          [404, 0, SpanStatusCode.UNSET],
        ],
      );
    });
    it("O2: a route past its timeout: its span ends with the 503, an error status and the exception", async () => {
      exporter.reset();
      assert.equal((await send()("/slow")).status, 503);
      const [span, ...more] = exporter.getFinishedSpans();
      assert.equal(more.length, 0);
      assert.equal(span!.name, "GET /slow");
      assert.equal(span!.attributes["http.response.status_code"], 503);
      assert.equal(span!.status.code, SpanStatusCode.ERROR);
      assert.equal(span!.events[0]?.name, "exception");
    });
  },
  { hooks },
);

it("O2: without tracing, a handler's spanOf is undefined and no span is made", async () => {
  exporter.reset();
  const app = createApp({ logLevel: "silent" });
  app.bind("/x", { style: "object" }, (_, ctx) => [200, spanOf(ctx) === undefined]);
  assert.equal(await (await app.request("/x")).json(), true);
  assert.equal(exporter.getFinishedSpans().length, 0);
});

it("O2: a WebSocket upgrade's span ends with its 101, or with the refusal sent instead", async () => {
  exporter.reset();
  const app = createApp({ logLevel: "silent", hooks });
  const onRequest: OnRequest = (ctx) =>
    ctx.headers.authorization === "no" ? [401, "sign in first"] : undefined;
  app.group("/live", { hooks: { onRequest } }, (g) => g.ws("/<int:room>", { open: (ws) => ws.close(1000) }));
  const server = await app.run({ port: 0 });
  const url = `${server.url.replace(/^http/, "ws")}/live/7`;
  try {
    const ws = new WebSocket(url);
    await once(ws, "close");
    const refused = new WebSocket(url, { headers: { authorization: "no" } });
    refused.on("error", () => {});
    await once(refused, "unexpected-response");
    refused.terminate();
  } finally {
    await server.close();
  }
  const [open, refused, ...more] = exporter.getFinishedSpans();
  assert.equal(more.length, 0);
  assert.equal(open!.name, "GET /live/<int:room>");
  assert.equal(open!.attributes["http.response.status_code"], 101);
  assert.equal(open!.status.code, SpanStatusCode.UNSET);
  assert.equal(refused!.name, "GET /live/<int:room>");
  assert.equal(refused!.attributes["http.response.status_code"], 401);
});
