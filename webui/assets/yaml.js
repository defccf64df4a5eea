// YAML and JSON text of a SealedSecret, written exactly as `sealant seal -o yaml|json` writes
// it: keys sorted, two-space indent, the same choice between plain and double-quoted scalars
// (docs/webui.md, "Same output as the CLI"). The browser tests compare both outputs.
//
// Values are strings, booleans or objects of them; strings are single-line (the page refuses
// multi-line labels and annotations, which the CLI would write as block scalars).

// Objects rebuilt with their keys in sorted order, at every level, as the CLI sorts them.
export function sorted(value) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(sorted);
  const out = {};
  for (const key of Object.keys(value).sort(compareUtf8)) out[key] = sorted(value[key]);
  return out;
}

// Byte order of the UTF-8 encodings, as Rust orders strings.
function compareUtf8(a, b) {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

export function toJson(value) {
  return JSON.stringify(sorted(value), null, 2) + "\n";
}

export function toYaml(value) {
  const lines = ["---"];
  writeMap(sorted(value), 0, lines);
  return lines.join("\n") + "\n";
}

function writeMap(map, depth, lines) {
  const pad = "  ".repeat(depth);
  for (const [key, value] of Object.entries(map)) {
    const k = keyText(key);
    if (value !== null && typeof value === "object") {
      if (Object.keys(value).length === 0) {
        lines.push(`${pad}${k}: {}`);
      } else {
        lines.push(`${pad}${k}:`);
        writeMap(value, depth + 1, lines);
      }
    } else {
      lines.push(`${pad}${k}: ${scalarText(value)}`);
    }
  }
}

function scalarText(value) {
  if (typeof value === "boolean") return value ? "true" : "false";
  const s = String(value);
  // The CLI's writer single-quotes these three one-character values.
  if (s === "." || s === "#" || s === "-") return `'${s}'`;
  return isPlainValueSafe(s, false, false) ? s : quoted(s);
}

export function keyText(s) {
  return isPlainSafe(s) && isPlainValueSafe(s, false, true) ? s : quoted(s);
}

export function valueText(s) {
  return scalarText(s);
}

// ---- the quoting rules of the CLI's YAML writer ----

const DIGIT = (radix) => (c) => c !== undefined && c.length === 1 && /^[0-9a-zA-Z]$/.test(c) && parseInt(c, 36) < radix;

function isDigitRun(s, radix, strictUnderscores) {
  const isDigit = DIGIT(radix);
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (isDigit(c)) continue;
    if (c === "_" && (!strictUnderscores || (i > 0 && isDigit(s[i - 1]) && isDigit(s[i + 1])))) continue;
    return false;
  }
  return true;
}

function stripSign(s) {
  return s.startsWith("+") || s.startsWith("-") ? s.slice(1) : s;
}

function radixDigits(s) {
  if (s.length >= 2 && s[0] === "0") {
    const p = s[1];
    if (p === "b" || p === "B") return [2, s.slice(2)];
    if (p === "o" || p === "O") return [8, s.slice(2)];
    if (p === "x" || p === "X") return [16, s.slice(2)];
  }
  return null;
}

function isSexagesimal(s) {
  const unsigned = stripSign(s);
  const dot = unsigned.indexOf(".");
  const integer = dot < 0 ? unsigned : unsigned.slice(0, dot);
  const fraction = dot < 0 ? null : unsigned.slice(dot + 1);
  const colon = integer.indexOf(":");
  if (colon < 0) return false;
  const first = integer.slice(0, colon);
  const rest = integer.slice(colon + 1);
  if (first.length === 0 || !/[0-9]/.test(first[0])) return false;
  if ((fraction === null && first[0] === "0") || !/^[0-9_]*$/.test(first)) return false;
  if (!rest.split(":").every((part) => /^[0-9]$/.test(part) || /^[0-5][0-9]$/.test(part))) return false;
  return fraction === null || /^[0-9_]*$/.test(fraction);
}

function isNumeric(s, yaml12) {
  if (!/^[0-9+\-._]/.test(s)) return false;
  let unsigned = stripSign(s);
  const lower = unsigned.toLowerCase();
  if (lower === ".inf" || lower === ".nan") return true;
  if (!yaml12) {
    if (isSexagesimal(s)) return true;
    const r = radixDigits(unsigned);
    if (r && isDigitRun(r[1], r[0], false)) return true;
  }
  if (!yaml12 && s.includes("_")) s = s.replaceAll("_", "");
  unsigned = stripSign(s);
  const r = radixDigits(unsigned);
  if (r) {
    let digits = r[1];
    if (!yaml12 && (s.startsWith("0b") || s.startsWith("0o"))) digits = stripSign(digits);
    return isDigitRun(digits, r[0], true);
  }
  let mantissa = unsigned;
  const e = unsigned.search(/[eE]/);
  if (e >= 0) {
    mantissa = unsigned.slice(0, e);
    const exponent = stripSign(unsigned.slice(e + 1));
    if (!isDigitRun(exponent, 10, true)) return false;
  }
  const dot = mantissa.indexOf(".");
  if (dot < 0) return isDigitRun(mantissa, 10, true);
  const whole = mantissa.slice(0, dot);
  const fraction = mantissa.slice(dot + 1);
  if (whole.length > 0 && !isDigitRun(whole, 10, true)) return false;
  if (!yaml12) return /^[0-9.]*$/.test(fraction);
  if (fraction.length === 0) return whole.length > 0;
  return isDigitRun(fraction, 10, true);
}

function isTimestamp(s) {
  const m = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(.*)$/s.exec(s);
  if (!m) return false;
  let rest = m[1];
  if (rest === "") return true;
  if (rest[0] === "T" || rest[0] === "t") {
    rest = rest.slice(1);
  } else {
    const trimmed = rest.replace(/^[ \t]+/, "");
    if (trimmed.length === rest.length) return false;
    rest = trimmed;
  }
  const t = /^[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(.*)$/s.exec(rest);
  if (!t) return false;
  rest = t[1];
  if (rest[0] === "." || rest[0] === ",") rest = rest.slice(1).replace(/^[0-9]*/, "");
  rest = rest.replace(/^[ \t]+/, "");
  if (rest === "" || rest === "Z") return true;
  const z = /^[+-][0-9]{1,2}(.*)$/s.exec(rest);
  if (!z) return false;
  rest = z[1];
  if (rest.startsWith(":")) {
    rest = rest.slice(1);
    if (!/^[0-9]{2}/.test(rest)) return false;
    rest = rest.slice(2);
  }
  return rest === "";
}

const YAML11_BOOLS = ["true", "yes", "y", "on", "false", "no", "n", "off"];

function isAmbiguous(s, yaml12) {
  const lower = s.toLowerCase();
  return (
    s === "" ||
    s === "~" ||
    lower === "null" ||
    lower === "true" ||
    lower === "false" ||
    isNumeric(s, yaml12) ||
    lower === "nan" ||
    lower === "inf" ||
    lower === "+inf" ||
    lower === "-inf" ||
    (!yaml12 && (YAML11_BOOLS.includes(s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "").toLowerCase()) || isTimestamp(s) || s === "<<" || s === "="))
  );
}

function startsWithDocumentMarker(s) {
  if (!s.startsWith("---") && !s.startsWith("...")) return false;
  return s.length === 3 || ASCII_WS.test(s[3]);
}

// Rust's `char::is_control` plus the characters YAML must escape.
function needsEscape(ch) {
  const c = ch.codePointAt(0);
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0xfeff || c === 0x2028 || c === 0x2029 || c === 0xfffe || c === 0xffff;
}

function containsAnyOrControl(s, chars) {
  for (const ch of s) if (needsEscape(ch) || chars.includes(ch)) return true;
  return false;
}

function hasCommentStart(s) {
  const chars = Array.from(s);
  for (let i = 1; i < chars.length; i++) {
    if (chars[i] === "#" && /\s/u.test(chars[i - 1])) return true;
  }
  return false;
}

// Rust's `u8::is_ascii_whitespace`.
const ASCII_WS = /^[ \t\n\f\r]$/;
const INDICATORS = ",:[]{}#&*!|>'\"%@`";

function edgeWhitespace(s) {
  return s.length > 0 && (ASCII_WS.test(s[0]) || ASCII_WS.test(s[s.length - 1]));
}

function isPlainSafe(s) {
  if (isAmbiguous(s, true) || s === "<<" || startsWithDocumentMarker(s) || edgeWhitespace(s)) return false;
  if (s[0] === "-" || s[0] === "?") {
    if (s.length === 1 || ASCII_WS.test(s[1])) return false;
  } else if (INDICATORS.includes(s[0])) {
    return false;
  }
  return !containsAnyOrControl(s, [":"]) && !hasCommentStart(s);
}

function isPlainValueSafe(s, yaml12, inFlow) {
  if (isAmbiguous(s, yaml12) || startsWithDocumentMarker(s) || edgeWhitespace(s)) return false;
  if ((s[0] === "-" || s[0] === "?") && (s.length === 1 || ASCII_WS.test(s[1]))) return false;
  if (INDICATORS.includes(s[0])) return false;
  if (s.includes(": ") || s.trim().endsWith(":")) return false;
  return !containsAnyOrControl(s, inFlow ? [",", "[", "]", "{", "}"] : []) && !hasCommentStart(s);
}

const NAMED = { "\\": "\\\\", '"': '\\"', "\0": "\\0", "\x07": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\x0b": "\\v", "\f": "\\f", "\r": "\\r", "\x1b": "\\e", "\ufeff": "\\uFEFF", "\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P" };

function quoted(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (NAMED[ch] !== undefined) out += NAMED[ch];
    else if (c <= 0xff && (c < 0x20 || (c >= 0x7f && c <= 0x9f))) out += "\\x" + c.toString(16).toUpperCase().padStart(2, "0");
    else if (c <= 0xffff && needsEscape(ch)) out += "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}
