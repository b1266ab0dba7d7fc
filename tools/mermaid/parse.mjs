// Parses Mermaid diagrams with the real mermaid package, and checks the limits its renderer
// enforces (maxTextSize for any diagram, maxEdges for a flowchart), with mermaid's own defaults:
// what GitHub runs when it draws a ```mermaid block.
//
//   node parse.mjs FILE...        one diagram per file (the text inside a ```mermaid fence)
//
// Prints one line per file, "FILE: ok TYPE, N chars, E edges" or "FILE: error: MESSAGE", and
// exits 1 when any fails. mermaid.parse needs a DOM (DOMPurify sanitises labels): jsdom's window.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const { window } = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = window;
globalThis.document = window.document;

const { default: mermaid } = await import("mermaid");
const { version } = JSON.parse(
  readFileSync(new URL("./node_modules/mermaid/package.json", import.meta.url), "utf8"),
);
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
const { maxTextSize, maxEdges } = mermaid.mermaidAPI.getConfig();

async function check(text) {
  if (text.length > maxTextSize) {
    throw new Error(`${text.length} characters, over mermaid's maxTextSize of ${maxTextSize}`);
  }
  const { diagramType } = await mermaid.parse(text);
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  const edges = diagram.db.getEdges ? diagram.db.getEdges().length : 0;
  if (edges > maxEdges) {
    throw new Error(`${edges} edges, over mermaid's maxEdges of ${maxEdges}`);
  }
  return `ok ${diagramType}, ${text.length} chars, ${edges} edges`;
}

let failed = 0;
console.log(`mermaid ${version} maxTextSize=${maxTextSize} maxEdges=${maxEdges}`);
for (const file of process.argv.slice(2)) {
  try {
    console.log(`${file}: ${await check(readFileSync(file, "utf8"))}`);
  } catch (error) {
    failed += 1;
    const message = String(error?.message ?? error).split("\n").join(" | ");
    console.log(`${file}: error: ${message}`);
  }
}
process.exit(failed ? 1 : 0);
