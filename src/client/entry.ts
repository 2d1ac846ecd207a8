/**
 * What both entries (Node, browser) export, built once over their runtime:
 * a default client made on first use, and the module-level endpoints bound
 * to it (the seed's `req.GET`, `req.POST`...).
 */
import { type Endpoint, endpoint } from "./builder.js";
import { Client, type Runtime } from "./client.js";
import type { ClientOptions } from "./options.js";

/** The module-level surface of an entry. */
export interface Entry {
  defaultClient(): Client;
  createClient(options?: ClientOptions): Client;
  readonly GET: Endpoint;
  readonly POST: Endpoint;
  readonly PUT: Endpoint;
  readonly PATCH: Endpoint;
  readonly DELETE: Endpoint;
  readonly HEAD: Endpoint;
  readonly OPTIONS: Endpoint;
}

/**
 * Builds an entry's surface.
 *
 * @example
 * const { GET, defaultClient } = defineEntry({ platform: nodePlatform, FormData });
 */
export function defineEntry(runtime: Runtime): Entry {
  let main: Client | undefined;
  const defaultClient = () => (main ??= new Client(runtime));
  // the default client is made on the first call, not at import
  const root = (method: string) =>
    endpoint(method, Object.freeze([]), (m, segments, args) => defaultClient().dispatch(m, segments, args));
  return {
    defaultClient,
    createClient: (options) => new Client(runtime, options),
    GET: root("GET"),
    POST: root("POST"),
    PUT: root("PUT"),
    PATCH: root("PATCH"),
    DELETE: root("DELETE"),
    HEAD: root("HEAD"),
    OPTIONS: root("OPTIONS"),
  };
}
