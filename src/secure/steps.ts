/**
 * The secure steps the pipeline loads on the first request that carries
 * keys or a nonce (security.ts `loadSteps`): an app that never sees one
 * never loads them, and the core's bundle does not hold them.
 */
export { type Opened, open } from "./open.js";
export { seal } from "./seal.js";
export { asksSized, RECORDS_HEADER, sealV2 } from "./seal-v2.js";
