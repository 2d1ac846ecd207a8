/**
 * ctx.signal (issue 13, item 5): fires when the client leaves, or when the
 * route's timeout has answered 503, on both faces.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { BindError, createApp, HttpError } from "usrv";
import { json, matrix } from "./_setup.js";

/** What a handler saw of its signal: resolved with the abort's reason. */
let aborted: Promise<unknown> = Promise.resolve();
let started: () => void = () => {};
let held: Promise<void> = Promise.resolve();
let release: () => void = () => {};

/** A handler's wait for its signal, recorded for the test. */
function waitFor(signal: AbortSignal): Promise<never> {
  aborted = new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(signal.reason), { once: true }),
  );
  started();
  return new Promise<never>(() => {}); // never answers by itself
}

matrix(
  "ctx.signal: cancellation of a handler",
  (app) => {
    app.bind("/slow", { timeout: 150, style: "object" }, (_, ctx) => waitFor(ctx.signal));
    // long enough that only the client's leaving can fire the signal; the fetch face's answer (a 503,
    // to nobody) still waits for it, so the suite waits that long there
    app.bind("/forever", { timeout: 10_000, style: "object" }, (_, ctx) => waitFor(ctx.signal));
    app.bind("/positional", { timeout: 150 }, function (this: { signal: AbortSignal }) {
      return waitFor(this.signal);
    });
    app.bind("/late", { timeout: 100, style: "object" }, async (_, ctx) => {
      let seen!: (reason: unknown) => void;
      aborted = new Promise((r) => {
        seen = r;
      });
      await held; // past the timeout (the test lets go once the 503 is in), then reads its signal
      seen(ctx.signal.aborted ? ctx.signal.reason : "not aborted");
      return [200];
    });
    app.bind("/quick", { style: "object" }, async (_, ctx) => [200, ctx.signal.aborted]);
    // a handler that stops when its signal fires: it answers, to no one
    app.bind("/polite", { timeout: 10_000, style: "object" }, (_, ctx) => {
      started();
      return new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve([200, "stopped"])));
    });
  },
  (send, logs) => {
    /** Requests `path` and leaves once its handler has started; `answer` settles once the client's side is done. */
    const leaveOnceStarted = async (path: string) => {
      const began = new Promise<void>((r) => {
        started = r;
      });
      const abort = new AbortController();
      const answer = send()(path, { signal: abort.signal }).catch((e: Error) => e);
      await began;
      abort.abort(new Error("the client left"));
      return { answer };
    };

    it("S5: an answer made after the client left is logged as not sent", async () => {
      await (await leaveOnceStarted("/polite")).answer;
      const line = () => logs().find((l) => l.startsWith("info:GET /polite 200 "));
      for (let i = 0; i < 500 && line() === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(
        line() ?? "(no access line)",
        /^info:GET \/polite 200 \d+\.\d{2}ms, not sent: the client left \[/,
      );
    });

    it("ctx.signal fires when the route's timeout answers 503, its reason that error", async () => {
      for (const path of ["/slow", "/positional"]) {
        const res = await send()(path);
        assert.equal(((await json(res, 503)) as { code: string }).code, "USRV_ERR_TIMEOUT");
        const reason = await aborted;
        assert.ok(reason instanceof HttpError && reason.code === "USRV_ERR_TIMEOUT", path);
      }
    });

    it("ctx.signal fires when the client leaves", async () => {
      const { answer } = await leaveOnceStarted("/forever");
      const reason = await aborted; // a hang here is the failure
      assert.ok(!(reason instanceof HttpError), `fired by the client, not the timeout: ${String(reason)}`);
      await answer;
    });

    it("ctx.signal read after the timeout has already fired", async () => {
      held = new Promise((r) => {
        release = r;
      });
      assert.equal((await send()("/late")).status, 503);
      release();
      const reason = await aborted;
      assert.ok(reason instanceof HttpError && reason.code === "USRV_ERR_TIMEOUT", String(reason));
    });

    it("bind refuses ctx.signal read from a positional value: (_, ctx) would get a value named ctx", () => {
      assert.throws(
        () =>
          createApp({ logLevel: "silent" }).bind("/x", (_: unknown, ctx: { signal: AbortSignal }) => [
            200,
            ctx.signal.aborted,
          ]),
        BindError,
      );
    });

    it("ctx.signal stays quiet for a request answered in time", async () => {
      assert.equal(await json(await send()("/quick"), 200), false);
    });
  },
);
