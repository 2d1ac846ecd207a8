/**
 * C6: `FormData.dump(folder)` on Node. Three locks keep every write inside
 * the folder: names are reduced to a safe base name (safe-name.ts), the
 * folder is resolved once to its real path, and each file is created with
 * O_CREAT | O_EXCL | O_NOFOLLOW, so an existing file is never overwritten
 * and a symbolic link planted under a part's name is never followed (the
 * next free name is taken instead).
 */
import { constants, openAsBlob } from "node:fs";
import { type FileHandle, mkdir, open, realpath } from "node:fs/promises";
import { join } from "node:path";
import { ClientError } from "./errors.js";
import { type DumpedPart, type FormPart, isFileRef } from "./platform.js";
import { safeFileName, variant } from "./safe-name.js";

const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
const MAX_TRIES = 1000;

async function create(root: string, name: string, taken: Set<string>): Promise<[FileHandle, string]> {
  for (let n = 0; n < MAX_TRIES; n++) {
    const candidate = variant(name, n);
    if (taken.has(candidate)) continue;
    try {
      const handle = await open(join(root, candidate), FLAGS, 0o644);
      taken.add(candidate);
      return [handle, candidate];
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EEXIST" && code !== "ELOOP") {
        throw new ClientError(
          "USRV_ERR_CLIENT_FILE",
          `dump: cannot create ${candidate}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    }
  }
  throw new ClientError("USRV_ERR_CLIENT_FILE", `dump: no free name for ${name} after ${MAX_TRIES} tries`);
}

async function write(handle: FileHandle, data: FormPart["data"]): Promise<void> {
  if (data instanceof Uint8Array) {
    await handle.writeFile(data);
    return;
  }
  // a Blob or a file on disk: streamed, never loaded whole
  const blob = isFileRef(data) ? await openAsBlob(data.path) : data;
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    await handle.write(value);
  }
}

/**
 * Writes the parts into `folder`; see the file comment for the guarantees.
 *
 * @example
 * await dumpParts(form.parts, "./uploads");
 */
export async function dumpParts(parts: readonly FormPart[], folder: string): Promise<DumpedPart[]> {
  if (typeof folder !== "string" || folder === "")
    throw new ClientError("USRV_ERR_CLIENT_BAD_ARGUMENT", "dump needs a folder");
  await mkdir(folder, { recursive: true });
  const root = await realpath(folder);
  const taken = new Set<string>();
  const out: DumpedPart[] = [];
  for (const part of parts) {
    const [handle, name] = await create(root, safeFileName(part), taken);
    try {
      await write(handle, part.data);
    } finally {
      await handle.close();
    }
    out.push({ name: part.name, filename: part.filename, type: part.type, path: join(root, name) });
  }
  return out;
}
