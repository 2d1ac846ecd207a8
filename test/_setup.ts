/**
 * Every suite that uses `matrix` runs three times: in process through
 * `app.request` (the fetch face), over a real socket through `app.run` (the
 * Node face) and over HTTP/2 (h2c) through `app.run({ http2: true })`.
 */
import { after, before, describe } from "node:test";
import { type App, createApp, type RunOptions, type ServerHandle, type ServerOf } from "usrv";
import { h2Client } from "./fixtures/h2-fetch.js";

/** Sends a request to the app under test, whichever face it goes through. */
export type Send = (path: string, init?: RequestInit) => Promise<Response>;

/** A quiet app: errors only, collected instead of printed. */
export function quietApp(options: Parameters<typeof createApp>[0] = {}): { app: App; logs: string[] } {
  const logs: string[] = [];
  const sink = (level: string) => (obj: object, msg?: string) => {
    const err = (obj as { err?: Error }).err;
    const id = (obj as { requestId?: string }).requestId;
    logs.push(`${level}:${msg ?? ""}${id ? ` [${id}]` : ""}${err ? `\n${err.stack}` : ""}`);
  };
  const logger = { debug: sink("debug"), info: sink("info"), warn: sink("warn"), error: sink("error") };
  return { app: createApp({ logger, ...options }), logs };
}

/** How a matrix suite reaches the app. */
export type Face = "fetch" | "node" | "h2";

/** Runs `suite` once per face: `fetch` (in process), `node` (real socket) and `h2` (HTTP/2 over a real socket). */
export function matrix(
  name: string,
  setup: (app: App) => void,
  suite: (send: () => Send, logs: () => string[], face: Face) => void,
  options: Parameters<typeof createApp>[0] = {},
): void {
  for (const face of ["fetch", "node", "h2"] satisfies Face[]) {
    describe(`${name} [${face}]`, () => {
      const { app, logs } = quietApp(options);
      setup(app);
      let server: ServerHandle<ServerOf<RunOptions>> | undefined;
      let h2: ReturnType<typeof h2Client> | undefined;
      if (face !== "fetch") {
        before(async () => {
          server = await app.run({ port: 0, http2: face === "h2" });
          if (face === "h2") h2 = h2Client(server.url);
        });
        after(async () => {
          await h2?.close();
          await server?.close();
        });
      }
      const send: Send = (path, init) =>
        face === "fetch"
          ? app.request(path, init)
          : face === "h2"
            ? h2!.fetch(path, init)
            : fetch(`${server!.url}${path}`, init);
      suite(
        () => send,
        () => logs,
        face,
      );
    });
  }
}

/**
 * usrv's error body without its `requestId` (checked: the request's id, a
 * UUID unless the client sent a sane `x-request-id`), to compare the rest.
 */
export function withoutId(body: unknown, id?: string): Record<string, unknown> {
  const { requestId, ...rest } = body as Record<string, unknown>;
  if (
    id !== undefined
      ? requestId !== id
      : !/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(String(requestId))
  ) {
    throw new Error(
      `expected the request id ${id ?? "(a UUID)"} in the error body, got ${JSON.stringify(requestId)}`,
    );
  }
  return rest;
}

/** The JSON body of a response, with its status checked. */
export async function json(res: Response, status: number): Promise<unknown> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}
