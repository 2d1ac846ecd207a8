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
