// Reading a pasted Secret: JSON, or the YAML that `kubectl get secret -o yaml` prints and
// people write by hand (docs/webui.md, "Pasting a Secret"): block mappings and sequences,
// plain, quoted and block (| >) scalars, comments, `{}` and `[]`, one document. Anchors,
// tags and other flow collections are refused. Errors name a line, never a value.

export class PasteError extends Error {}

export function parseManifest(text) {
  const trimmed = text.trim();
  if (trimmed === "") throw new PasteError("Paste a Secret manifest first.");
  if (trimmed.startsWith("{")) {
    try {
      return JSON.parse(trimmed);
    } catch (e) {
      throw new PasteError("This is not valid JSON.");
    }
  }
  return parseYaml(text);
}

// ---- the YAML subset ----

function parseYaml(text) {
  const lines = [];
  let started = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^(---|\.\.\.)(\s.*)?$/.test(raw)) {
      if (started) throw new PasteError(`Line ${i + 1}: paste one Secret, not several documents.`);
      return;
    }
    lines.push({ raw, n: i + 1 });
    if (!/^\s*(#.*)?$/.test(raw)) started = true;
  });
  const p = { lines, i: 0 };
  skipBlank(p);
  if (p.i >= lines.length) throw new PasteError("The pasted text holds no object.");
  const value = parseNode(p, indentOf(lines[p.i].raw));
  skipBlank(p);
  if (p.i < lines.length) throw new PasteError(`Line ${lines[p.i].n}: unexpected indentation.`);
  return value;
}

function indentOf(raw) {
  return raw.match(/^ */)[0].length;
}

// The indentation of a line of a mapping or sequence. Tabs cannot indent YAML; inside a block
// scalar a tab after the indentation is content, so this is checked here, not per line.
function structuralIndent(line) {
  if (/\t/.test(line.raw.match(/^\s*/)[0])) throw new PasteError(`Line ${line.n}: tabs cannot indent YAML.`);
  return indentOf(line.raw);
}

function isBlank(raw) {
  return /^\s*(#.*)?$/.test(raw);
}

function skipBlank(p) {
  while (p.i < p.lines.length && isBlank(p.lines[p.i].raw)) p.i++;
}

function parseNode(p, indent) {
  const line = p.lines[p.i];
  const content = line.raw.slice(indent);
  return content.startsWith("- ") || content === "-" ? parseSequence(p, indent) : parseMapping(p, indent);
}

function parseSequence(p, indent) {
  const out = [];
  for (;;) {
    skipBlank(p);
    if (p.i >= p.lines.length) return out;
    const line = p.lines[p.i];
    const ind = structuralIndent(line);
    if (ind < indent) return out;
    const content = line.raw.slice(ind);
    if (ind > indent) throw new PasteError(`Line ${line.n}: unexpected indentation.`);
    // A sequence may sit at its key's column (`items:` then `- a`): a key ends it.
    if (!(content.startsWith("- ") || content === "-")) return out;
    const rest = content.slice(1).replace(/^ +/, "");
    const itemIndent = ind + (content.length - content.slice(1).replace(/^ +/, "").length);
    if (rest === "" || rest.startsWith("#")) {
      p.i++;
      skipBlank(p);
      if (p.i < p.lines.length && indentOf(p.lines[p.i].raw) > ind) out.push(parseNode(p, indentOf(p.lines[p.i].raw)));
      else out.push(null);
    } else if (/^[^'"\[{][^:]*:( |$)|^"[^"]*":( |$)|^'[^']*':( |$)/.test(rest)) {
      // `- key: value` starts a mapping at the item's column.
      p.lines[p.i] = { raw: " ".repeat(itemIndent) + rest, n: line.n };
      out.push(parseMapping(p, itemIndent));
    } else {
      p.i++;
      out.push(scalar(rest, line.n, p, ind));
    }
  }
}

function parseMapping(p, indent) {
  const out = {};
  for (;;) {
    skipBlank(p);
    if (p.i >= p.lines.length) return out;
    const line = p.lines[p.i];
    const ind = structuralIndent(line);
    if (ind < indent) return out;
    if (ind > indent) throw new PasteError(`Line ${line.n}: unexpected indentation.`);
    const { key, rest } = splitKey(line.raw.slice(ind), line.n);
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new PasteError(`Line ${line.n}: a key appears twice.`);
    p.i++;
    if (rest === "" || rest.startsWith("#")) {
      skipBlank(p);
      const next = p.i < p.lines.length ? p.lines[p.i] : null;
      const nextIndent = next ? indentOf(next.raw) : -1;
      const nextIsSeq = next && /^- |^-$/.test(next.raw.slice(nextIndent));
      if (next && (nextIndent > ind || (nextIndent === ind && nextIsSeq))) out[key] = parseNode(p, nextIndent);
      else out[key] = null;
    } else {
      out[key] = scalar(rest, line.n, p, ind);
    }
  }
}

function splitKey(content, n) {
  let key;
  let after;
  if (content[0] === '"' || content[0] === "'") {
    const end = quotedEnd(content, n);
    key = unquote(content.slice(0, end + 1), n);
    after = content.slice(end + 1);
  } else {
    const m = /^([^#:]|:(?! |$))*?(?=:( |$))/.exec(content);
    if (!m || m[0] === "") throw new PasteError(`Line ${n}: expected "key: value".`);
    key = m[0].trimEnd();
    after = content.slice(m[0].length);
  }
  if (!/^:( |$)/.test(after)) throw new PasteError(`Line ${n}: expected "key: value".`);
  return { key, rest: after.slice(1).trim() };
}

function quotedEnd(s, n) {
  const q = s[0];
  for (let i = 1; i < s.length; i++) {
    if (q === '"' && s[i] === "\\") {
      i++;
    } else if (s[i] === q) {
      if (q === "'" && s[i + 1] === "'") i++;
      else return i;
    }
  }
  throw new PasteError(`Line ${n}: a quoted string is not closed (multi-line quoted strings are not read here).`);
}

const ESCAPES = { 0: "\0", a: "\x07", b: "\b", t: "\t", "\t": "\t", n: "\n", v: "\x0b", f: "\f", r: "\r", e: "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", N: "\x85", _: "\xa0", L: "\u2028", P: "\u2029" };

function unquote(s, n) {
  if (s[0] === "'") return s.slice(1, -1).replaceAll("''", "'");
  let out = "";
  for (let i = 1; i < s.length - 1; i++) {
    if (s[i] !== "\\") {
      out += s[i];
      continue;
    }
    const c = s[++i];
    const hex = { x: 2, u: 4, U: 8 }[c];
    if (hex) {
      const digits = s.slice(i + 1, i + 1 + hex);
      if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hex) throw new PasteError(`Line ${n}: a bad escape in a quoted string.`);
      out += String.fromCodePoint(parseInt(digits, 16));
      i += hex;
    } else if (ESCAPES[c] !== undefined) {
      out += ESCAPES[c];
    } else {
      throw new PasteError(`Line ${n}: a bad escape in a quoted string.`);
    }
  }
  return out;
}

function scalar(rest, n, p, parentIndent) {
  if (rest[0] === "|" || rest[0] === ">") return blockScalar(rest, n, p, parentIndent);
  if (rest[0] === '"' || rest[0] === "'") {
    const end = quotedEnd(rest, n);
    const tail = rest.slice(end + 1).trim();
    if (tail !== "" && !tail.startsWith("#")) throw new PasteError(`Line ${n}: text after a quoted string.`);
    return unquote(rest.slice(0, end + 1), n);
  }
  if (rest[0] === "&" || rest[0] === "*" || rest[0] === "!") throw new PasteError(`Line ${n}: anchors, aliases and tags are not read here.`);
  if (rest === "{}") return {};
  if (rest === "[]") return [];
  if (rest[0] === "{" || rest[0] === "[") throw new PasteError(`Line ${n}: flow collections other than {} and [] are not read here.`);
  const plain = rest.replace(/\s+#.*$/, "").trim();
  if (plain === "true") return true;
  if (plain === "false") return false;
  if (plain === "null" || plain === "~") return null;
  // A plain scalar may continue on more-indented lines.
  let text = plain;
  while (p.i < p.lines.length && !isBlank(p.lines[p.i].raw) && indentOf(p.lines[p.i].raw) > parentIndent && !/^\s*- /.test(p.lines[p.i].raw)) {
    text += " " + p.lines[p.i].raw.trim();
    p.i++;
  }
  return text;
}

function blockScalar(header, n, p, parentIndent) {
  const m = /^([|>])([1-9])?([-+])?([1-9])?\s*(#.*)?$/.exec(header);
  if (!m) throw new PasteError(`Line ${n}: a block scalar header this page does not read.`);
  const folded = m[1] === ">";
  const chomp = m[3] || "";
  const explicit = m[2] || m[4];
  const body = [];
  let indent = explicit ? parentIndent + Number(explicit) : null;
  while (p.i < p.lines.length) {
    const raw = p.lines[p.i].raw;
    if (/^ *$/.test(raw)) {
      // Only spaces: an empty line, or content past the block's indentation (a value ending
      // in spaces). A tab is never indentation, so a line with one is content.
      body.push(indent !== null && raw.length > indent ? raw.slice(indent) : "");
      p.i++;
      continue;
    }
    const ind = indentOf(raw);
    if (indent === null) indent = ind;
    if (ind < indent || ind <= parentIndent) break;
    body.push(raw.slice(indent));
    p.i++;
  }
  // Trailing blank lines belong to chomping, and lines past the scalar go back.
  let trailing = 0;
  while (body.length > 0 && body[body.length - 1] === "") {
    body.pop();
    trailing++;
  }
  let text = folded ? fold(body) : body.join("\n");
  if (body.length > 0 && chomp !== "-") text += "\n";
  if (chomp === "+") text += "\n".repeat(trailing);
  return text;
}

function fold(lines) {
  let out = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (i > 0) {
      const prev = lines[i - 1];
      if (line === "" || prev === "" || /^\s/.test(line) || /^\s/.test(prev)) out += "\n";
      else out += " ";
    }
    out += line;
  }
  return out.replace(/\n(?=\n)/g, "\n");
}

// ---- from the parsed object to the form's fields ----

// Fields of `metadata` the API server sets or that hold a copy of the values: dropped, as
// `sealant seal` drops them from the template.
const LAST_APPLIED = ["kubectl.kubernetes.io/last-applied-configuration", "kubecfg.ksonnet.io/last-applied-configuration"];
const SERVER_FIELDS = ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink", "ownerReferences"];

// The Secret's parts the form shows. Throws a PasteError for anything else.
export function secretFromManifest(doc) {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new PasteError("The pasted text is not an object.");
  if (doc.kind !== undefined && doc.kind !== "Secret") {
    throw new PasteError(`This is a ${typeof doc.kind === "string" ? "“" + doc.kind.slice(0, 60) + "”" : "document"}, not a Secret.`);
  }
  if (doc.kind === undefined) throw new PasteError("This has no kind: Secret.");
  if (doc.apiVersion !== undefined && doc.apiVersion !== "v1") throw new PasteError("A Secret has apiVersion v1.");
  const meta = doc.metadata ?? {};
  if (typeof meta !== "object" || Array.isArray(meta)) throw new PasteError("metadata is not a map.");
  for (const field of Object.keys(meta)) {
    if (!["name", "namespace", "labels", "annotations", ...SERVER_FIELDS].includes(field)) {
      throw new PasteError(`metadata.${field.slice(0, 60)} is not read here: seal this Secret with \`sealant seal\`.`);
    }
  }
  const items = [];
  const seen = new Set();
  const add = (key, bytes) => {
    const at = items.findIndex(([k]) => k === key);
    if (at >= 0) items[at] = [key, bytes];
    else items.push([key, bytes]);
    seen.add(key);
  };
  for (const [key, value] of Object.entries(mapOf(doc.data, "data"))) {
    if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
      throw new PasteError(`data item ${key.slice(0, 60)} is not base64.`);
    }
    add(key, Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
  }
  for (const [key, value] of Object.entries(mapOf(doc.stringData, "stringData"))) {
    if (typeof value !== "string") throw new PasteError(`stringData item ${key.slice(0, 60)} is not a string.`);
    add(key, new TextEncoder().encode(value));
  }
  const strings = (field) => {
    const map = mapOf(meta[field], `metadata.${field}`);
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== "string") throw new PasteError(`metadata.${field} ${k.slice(0, 60)} is not a string.`);
    }
    return meta[field] == null ? undefined : map;
  };
  if (doc.immutable !== undefined && doc.immutable !== null && typeof doc.immutable !== "boolean") throw new PasteError("immutable is true or false.");
  // The last-applied copy holds the values: it is never kept, as `sealant seal` never writes it.
  const annotations = strings("annotations");
  if (annotations) {
    for (const key of LAST_APPLIED) delete annotations[key];
  }
  return {
    name: str(meta.name, "metadata.name"),
    namespace: str(meta.namespace, "metadata.namespace"),
    type: str(doc.type, "type"),
    labels: strings("labels"),
    annotations,
    immutable: doc.immutable ?? undefined,
    items,
  };
}

function mapOf(value, what) {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new PasteError(`${what} is not a map.`);
  return value;
}

function str(value, what) {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new PasteError(`${what} is not a string.`);
  return value;
}
