// Drives the npm package `age-encryption` (typage) for sealant's age interop tests
// (core/tests/age_interop.rs). File bytes travel on stdin/stdout.
//
//   node age-js.mjs NPM_DIR keygen x25519|pq          -> identity line, recipient line
//   node age-js.mjs NPM_DIR recipient IDENTITY        -> recipient line
//   node age-js.mjs NPM_DIR encrypt RECIPIENT...      stdin plaintext -> binary age file
//   node age-js.mjs NPM_DIR decrypt IDENTITY...       stdin age file (binary or armored) -> plaintext
//   node age-js.mjs NPM_DIR cctv OUT_DIR              -> writes the cctv-age test vectors as files
//
// NPM_DIR holds node_modules with age-encryption@0.3.1 and cctv-age@0.2.0 (tests/setup-age.sh).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, command, ...args] = process.argv.slice(2);
const load = (path) => import(pathToFileURL(join(dir, "node_modules", path)).href);

const age = await load("age-encryption/dist/index.js");

switch (command) {
  case "keygen": {
    const identity = args[0] === "pq"
      ? await age.generateHybridIdentity()
      : await age.generateX25519Identity();
    process.stdout.write(`${identity}\n${await age.identityToRecipient(identity)}\n`);
    break;
  }
  case "recipient":
    process.stdout.write(`${await age.identityToRecipient(args[0])}\n`);
    break;
  case "encrypt": {
    const encrypter = new age.Encrypter();
    for (const recipient of args) encrypter.addRecipient(recipient);
    process.stdout.write(await encrypter.encrypt(new Uint8Array(readFileSync(0))));
    break;
  }
  case "decrypt": {
    const decrypter = new age.Decrypter();
    for (const identity of args) decrypter.addIdentity(identity);
    let file = new Uint8Array(readFileSync(0));
    const text = Buffer.from(file).toString("latin1");
    if (text.startsWith("-----BEGIN AGE ENCRYPTED FILE-----")) file = age.armor.decode(text);
    process.stdout.write(await decrypter.decrypt(file));
    break;
  }
  case "cctv": {
    const vectors = await load("cctv-age/index.js");
    mkdirSync(args[0], { recursive: true });
    for (const [name, bytes] of Object.entries(vectors.default ?? vectors)) {
      if (bytes instanceof Uint8Array) writeFileSync(join(args[0], name), bytes);
    }
    break;
  }
  default:
    process.stderr.write(`unknown command ${command}\n`);
    process.exit(2);
}
