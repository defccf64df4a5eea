// What the page checks before sealing, with Kubernetes' own rules (docs/webui.md, "Checks"):
// each function returns an error text for people, or null. No text ever quotes a value.

// Kubernetes' limit on a Secret's data, all values together.
export const MAX_SECRET_BYTES = 1024 * 1024;

const DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS_SUBDOMAIN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const DNS_LABEL_RE = new RegExp(`^${DNS_LABEL}$`);
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

// A Secret's name: a DNS subdomain (RFC 1123), at most 253 characters.
export function checkName(name) {
  if (name === "") return "Give the Secret a name.";
  if (name.length > 253) return "A name has at most 253 characters.";
  if (!DNS_SUBDOMAIN.test(name)) {
    return "A name is lowercase letters, digits, '-' and '.', starting and ending with a letter or digit.";
  }
  return null;
}

// A namespace: a DNS label (RFC 1123), at most 63 characters. Empty is allowed only
// cluster-wide, where the value is bound to no namespace.
export function checkNamespace(namespace, scope) {
  if (namespace === "") return scope === "cluster-wide" ? null : "Give a namespace (only a cluster-wide value needs none).";
  if (namespace.length > 63) return "A namespace has at most 63 characters.";
  if (!DNS_LABEL_RE.test(namespace)) {
    return "A namespace is lowercase letters, digits and '-', starting and ending with a letter or digit.";
  }
  return null;
}

// A key of `data`: letters, digits, '-', '_' and '.', at most 253, not '.' or '..'.
export function checkKey(key) {
  if (key === "") return "Give every item a key.";
  if (key.length > 253) return "A key has at most 253 characters.";
  if (!SECRET_KEY.test(key)) return "A key is letters, digits, '-', '_' and '.' only.";
  if (key === "." || key === ".." || key.startsWith("..")) return "A key may not be '.' or '..', nor start with '..'.";
  return null;
}

// A Secret type: one line of printable text (Opaque, kubernetes.io/tls, a custom type).
export function checkType(type) {
  if (type.length > 253) return "A type has at most 253 characters.";
  if (/[\s\u0000-\u001f\u007f]/.test(type)) return "A type has no spaces or control characters.";
  return null;
}

// All values together within Kubernetes' limit for a Secret.
export function checkSize(totalBytes) {
  if (totalBytes > MAX_SECRET_BYTES) {
    return `The values take ${totalBytes} bytes: a Secret holds at most ${MAX_SECRET_BYTES} bytes (1 MiB).`;
  }
  return null;
}

// A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of at
// most 63 characters.
export function checkQualifiedName(key) {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return "its prefix is not a DNS subdomain";
  if (name.length > 63 || !QUALIFIED_NAME.test(name)) return "it is not a valid key";
  return null;
}

export function checkLabelValue(value) {
  return value.length <= 63 && LABEL_VALUE.test(value) ? null : "its value is not a valid label value";
}

// Annotation values the page writes as the CLI does: single-line text.
export function checkAnnotationValue(value) {
  return /[\n\r]/.test(value) ? "its value spans several lines (seal this Secret with `sealant seal`)" : null;
}
