/**
 * Optional peer dependencies (tsx, @redis/client): imported only by the
 * feature that needs them, and when missing, one line that says what to
 * install instead of a resolver's stack.
 */

/** A feature needs a package that is not installed. */
export class MissingPeerError extends Error {
  constructor(
    readonly pkg: string,
    feature: string,
  ) {
    super(`[usrv] ${feature} needs the package ${pkg}: npm install ${pkg}`);
    this.name = "MissingPeerError";
  }
}

/**
 * Runs `load` (a dynamic import of `pkg` or one of its subpaths); a failure
 * to find `pkg` itself becomes a `MissingPeerError` naming `feature`.
 *
 * @example
 * const { createClient } = await importPeer("@redis/client", "--replay-store redis://", () => import("@redis/client"));
 */
export async function importPeer<T>(pkg: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
    const missing =
      (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
      typeof message === "string" &&
      (message.includes(`'${pkg}'`) || message.includes(`'${pkg}/`));
    throw missing ? new MissingPeerError(pkg, feature) : e;
  }
}

/**
 * `import(name)` with the name out of a bundler's sight: the chunks that load
 * optional peers (the upload spooler, the WebSocket connections) sit in the
 * graph of `import "usrv"` behind dynamic imports, and a bundler that follows
 * them (esbuild in wrangler, Vite) would fail on, or pull in, a package that
 * only a Node server using that feature loads.
 *
 * @example
 * const ws = await importPeer("ws", "app.ws", () => importNamed<typeof import("ws")>("ws"));
 */
export function importNamed<T>(name: string): Promise<T> {
  return import(name) as Promise<T>;
}
