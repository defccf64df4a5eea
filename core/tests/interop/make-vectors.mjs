// Writes core/tests/vectors/age/vectors.json: sealant's age item format made by an independent
// implementation. The scope envelope is built here from docs/format.md alone, and items are
// encrypted with the npm package `age-encryption` (typage), which shares no code with sealant.
// The X-Wing (MLKEM768-X25519) vectors come from @noble/post-quantum with fixed randomness.
//
//   node core/tests/interop/make-vectors.mjs NPM_DIR > core/tests/vectors/age/vectors.json
//
// Items are randomized: every run changes them (the test only decrypts them).
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dir = process.argv[2];
const load = (path) => import(pathToFileURL(join(dir, "node_modules", path)).href);
const age = await load("age-encryption/dist/index.js");
const { bech32 } = await load("@scure/base/index.js");
const { MLKEM768X25519 } = await load("@noble/post-quantum/hybrid.js");

const hex = (b) => Buffer.from(b).toString("hex");
const fromHex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const seq = (start) => Uint8Array.from({ length: 32 }, (_, i) => (start + i) & 0xff);
const identity = (prefix, bytes) => bech32.encodeFromBytes(prefix, bytes).toUpperCase();

// docs/format.md, "The scope envelope".
const KINDS = { strict: 0, "namespace-wide": 1, "cluster-wide": 2 };
function label(scope, namespace, name) {
  if (scope === "strict") return `${namespace}/${name}`;
  if (scope === "namespace-wide") return namespace;
  return "";
}
function envelope(scope, namespace, name, value) {
  const magic = new TextEncoder().encode("sealant.dev/item/v1\n");
  const l = new TextEncoder().encode(label(scope, namespace, name));
  const out = new Uint8Array(magic.length + 3 + l.length + value.length);
  out.set(magic, 0);
  out[magic.length] = KINDS[scope];
  out[magic.length + 1] = l.length >> 8;
  out[magic.length + 2] = l.length & 0xff;
  out.set(l, magic.length + 3);
  out.set(value, magic.length + 3 + l.length);
  return out;
}

const x25519Identity = identity("AGE-SECRET-KEY-", seq(1));
const pqIdentity = identity("AGE-SECRET-KEY-PQ-", seq(33));
const identities = { x25519: x25519Identity, pq: pqIdentity };

const cases = [
  ["strict", "prod", "db-credentials", "hunter2"],
  ["namespace-wide", "prod", "db-credentials", ""],
  ["cluster-wide", "", "", "a value\nwith a newline and ünïcode"],
  ["strict", "kube-system", "x", "\u0000\u00ff binary"],
];

const envelopes = cases.map(([scope, namespace, name, text]) => {
  const value = new TextEncoder().encode(text);
  return { scope, namespace, name, value_hex: hex(value), envelope_hex: hex(envelope(scope, namespace, name, value)) };
});

const items = [];
for (const [kind, id] of Object.entries(identities)) {
  for (const [scope, namespace, name, text] of cases) {
    const encrypter = new age.Encrypter();
    encrypter.addRecipient(await age.identityToRecipient(id));
    const value = new TextEncoder().encode(text);
    const item = await encrypter.encrypt(envelope(scope, namespace, name, value));
    items.push({ identity: kind, scope, namespace, name, value_hex: hex(value), item_base64: Buffer.from(item).toString("base64") });
  }
}

// The c2sp.org/age example identity, and X-Wing with fixed randomness (m ‖ e).
const specIdentity = "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR";
const xwing = [];
for (const [seed, rand] of [[seq(33), new Uint8Array(64)], [seq(200), Uint8Array.from({ length: 64 }, (_, i) => i * 7)]]) {
  const publicKey = MLKEM768X25519.getPublicKey(seed);
  // encapsulate wipes the randomness it is given: hand it a copy.
  const { cipherText, sharedSecret } = MLKEM768X25519.encapsulate(publicKey, rand.slice());
  xwing.push({ seed_hex: hex(seed), rand_hex: hex(rand), public_key_hex: hex(publicKey), enc_hex: hex(cipherText), shared_secret_hex: hex(sharedSecret) });
}

process.stdout.write(JSON.stringify({
  generator: "core/tests/interop/make-vectors.mjs with age-encryption 0.3.1",
  identities: Object.fromEntries(await Promise.all(Object.entries(identities).map(async ([k, v]) => [k, { identity: v, recipient: await age.identityToRecipient(v) }]))),
  spec_example: { identity: specIdentity, recipient: await age.identityToRecipient(specIdentity) },
  envelopes,
  items,
  xwing,
}, null, 1) + "\n");
