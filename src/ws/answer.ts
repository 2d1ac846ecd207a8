/**
 * A refused upgrade, answered in plain HTTP/1.1 on the socket (upgrade.ts
 * for a route's refusals, socket.ts for a handshake ws finds malformed).
 */
import type { Duplex } from "node:stream";
import { reason } from "../common/errors.js";
import type { Reply } from "../core/render.js";

/**
 * A refusal as a plain HTTP/1.1 answer on the socket, which is then ended:
 * the client's WebSocket fails with that status, never upgraded.
 */
export async function writeReply(socket: Duplex, reply: Reply): Promise<void> {
  if (socket.destroyed || !socket.writable) return void socket.destroy();
  let status = reply.status;
  const lines: string[] = [];
  let body: Uint8Array | string | null = reply.body;
  const r = reply.response;
  if (r !== undefined) {
    status = r.status;
    r.headers.forEach((v, k) => {
      if (k !== "set-cookie" && k !== "content-length" && k !== "transfer-encoding" && k !== "connection")
        lines.push(`${k}: ${v}`);
    });
    for (const c of r.headers.getSetCookie()) lines.push(`set-cookie: ${c}`);
    try {
      body = new Uint8Array(await r.arrayBuffer()); // the app's own answer, not the client's bytes
    } catch {
      body = null;
    }
  } else {
    for (const k in reply.headers) lines.push(`${k}: ${reply.headers[k]}`);
    for (const c of reply.cookies ?? []) lines.push(`set-cookie: ${c}`);
  }
  const length = body === null ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  lines.push(`content-length: ${length}`, "connection: close");
  socket.write(`HTTP/1.1 ${status} ${reason(status)}\r\n${lines.join("\r\n")}\r\n\r\n`);
  socket.end(body ?? undefined);
}
