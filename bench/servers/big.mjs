// The 100 KB JSON answer of the compression preset (bench/variants.mjs compress), the same in every server.
export const BIG = {
  items: Array.from({ length: 1000 }, (_, i) => ({
    id: i,
    name: `item ${i}`,
    price: (i * 7) % 100,
    tags: ["a", "b"],
  })),
};
export const BIG_TEXT = JSON.stringify(BIG);

// The 1 MiB file of the static preset, written once where every server reads it.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
export const STATIC_DIR = join(tmpdir(), "usrv-bench-static");
export const STATIC_FILE = Buffer.alloc(1024 * 1024, "usrv static bench ");
if (!existsSync(join(STATIC_DIR, "file.bin"))) {
  mkdirSync(STATIC_DIR, { recursive: true });
  writeFileSync(join(STATIC_DIR, "file.bin"), STATIC_FILE);
}
