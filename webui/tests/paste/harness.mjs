// Runs the page's manifest reader (assets/paste.js) on each line of stdin, a JSON string, and
// prints one JSON line per input: {"ok": value}, {"refused": message} for a PasteError, or
// {"crash": message} for any other exception. Driven by webui/tests/paste.rs.
import { createInterface } from "node:readline";
import { parseManifest, secretFromManifest, PasteError } from "../../assets/paste.js";

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  const text = JSON.parse(line);
  let out;
  try {
    const value = parseManifest(text);
    try {
      secretFromManifest(value);
    } catch (e) {
      if (!(e instanceof PasteError)) throw e;
    }
    out = { ok: value };
  } catch (e) {
    out = e instanceof PasteError ? { refused: e.message } : { crash: String(e && e.stack || e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
