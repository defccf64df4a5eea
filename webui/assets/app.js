// The page: loads the certificate's facts, checks the form, seals in this browser and shows
// the SealedSecret. Values live only in the form's fields; nothing is stored or sent
// (docs/webui.md). The one request the page makes is for `cert.json`, next to it, with the
// namespace it seals for (`cert.json?namespace=NS`): the server answers with that namespace's
// certificate, the cluster's or its tenant's (docs/webui.md, "Tenant keys").

import { importKey, sealSecret } from "./seal.js";
import { toJson, toYaml } from "./yaml.js";
import { parseManifest, secretFromManifest, PasteError } from "./paste.js";
import * as rules from "./rules.js";

const $ = (id) => document.getElementById(id);
let cert = null; // { facts, key, namespace }: the certificate of the latest namespace asked for
let certLoad = null; // { namespace, promise, failed }: the latest request for a certificate
let certTimer = null;
let kept = {}; // labels, annotations, immutable of a pasted manifest
let sealed = null;
let rowCount = 0;

function setError(id, text, field) {
  $(id).textContent = text || "";
  if (field) field.setAttribute("aria-invalid", text ? "true" : "false");
}

function addRow(key = "", bytes = null) {
  const row = $("item-row").content.firstElementChild.cloneNode(true);
  const n = ++rowCount;
  const [keyLabel, valueLabel] = row.querySelectorAll("label");
  const keyInput = row.querySelector(".item-key");
  const valueInput = row.querySelector(".item-value");
  const error = row.querySelector(".item-error");
  keyInput.id = `item-key-${n}`;
  valueInput.id = `item-value-${n}`;
  error.id = `item-error-${n}`;
  keyLabel.htmlFor = keyInput.id;
  valueLabel.htmlFor = valueInput.id;
  keyInput.setAttribute("aria-describedby", error.id);
  valueInput.setAttribute("aria-describedby", error.id);
  keyInput.value = key;
  if (bytes !== null) {
    try {
      valueInput.value = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      // Binary values from a pasted manifest are kept as bytes, not shown.
      row.binary = bytes;
      valueInput.disabled = true;
      valueInput.placeholder = `binary value from the manifest (${bytes.length} bytes)`;
    }
  }
  row.querySelector(".item-remove").addEventListener("click", () => {
    row.remove();
    if (!$("items").children.length) addRow();
  });
  $("items").appendChild(row);
  return row;
}

function clearValues() {
  $("items").replaceChildren();
  addRow();
  $("paste-text").value = "";
  kept = {};
  showKept();
  $("output").hidden = true;
  $("result").value = "";
  sealed = null;
}

function showKept() {
  const parts = [];
  if (kept.labels) parts.push(`${Object.keys(kept.labels).length} label(s)`);
  if (kept.annotations) parts.push(`${Object.keys(kept.annotations).length} annotation(s)`);
  if (kept.immutable !== undefined) parts.push(`immutable: ${kept.immutable}`);
  $("kept").hidden = parts.length === 0;
  $("kept").textContent = parts.length ? `Kept from the manifest: ${parts.join(", ")}.` : "";
}

// Checks the form; returns the input for sealSecret, or null after showing the errors inline.
function readForm() {
  const name = $("name").value.trim();
  const namespace = $("namespace").value.trim();
  const scope = $("scope").value;
  const type = $("type").value.trim();
  let ok = true;
  const check = (id, field, text) => {
    setError(id, text, field);
    if (text) ok = false;
  };
  check("name-error", $("name"), rules.checkName(name));
  check("namespace-error", $("namespace"), rules.checkNamespace(namespace, scope));
  check("type-error", $("type"), rules.checkType(type));

  const items = [];
  const keys = new Set();
  let total = 0;
  for (const row of $("items").children) {
    const keyInput = row.querySelector(".item-key");
    const valueInput = row.querySelector(".item-value");
    const key = keyInput.value.trim();
    const bytes = row.binary ?? new TextEncoder().encode(valueInput.value);
    if (key === "" && bytes.length === 0 && $("items").children.length > 1) continue;
    let text = rules.checkKey(key);
    if (!text && keys.has(key)) text = "This key is used twice.";
    check(row.querySelector(".item-error").id, keyInput, text);
    keys.add(key);
    total += bytes.length;
    items.push([key, bytes]);
  }
  check("items-error", null, items.length === 0 ? "Add at least one item." : rules.checkSize(total));
  for (const [field, checkKey, checkValue] of [
    ["labels", rules.checkQualifiedName, rules.checkLabelValue],
    ["annotations", rules.checkQualifiedName, rules.checkAnnotationValue],
  ]) {
    for (const [k, v] of Object.entries(kept[field] || {})) {
      const text = checkKey(k) || checkValue(v);
      if (text) check("seal-error", null, `A ${field.slice(0, -1)} from the manifest cannot be written: ${text}.`);
    }
  }
  if (!ok) return null;
  return { name, namespace, scope, type, items, labels: kept.labels, annotations: kept.annotations, immutable: kept.immutable };
}

async function seal() {
  setError("seal-error", "");
  if (cert && (new Date(cert.facts.notAfter) < new Date() || cert.facts.expired)) {
    setError("seal-error", "The certificate has expired: ask for the cluster's current certificate.");
    return;
  }
  const input = readForm();
  if (!input) {
    const invalid = document.querySelector('[aria-invalid="true"]');
    if (invalid) invalid.focus();
    return;
  }
  // Seal only with the certificate of the namespace in the field, never a previous one's.
  await loadCert(input.namespace);
  if (!cert || cert.namespace !== input.namespace || $("namespace").value.trim() !== input.namespace) {
    // What is shown was sealed for another namespace: not to be taken for this one's.
    $("output").hidden = true;
    setError("seal-error", `There is no usable certificate for ${namespaceWords(input.namespace)}: ${$("cert-status").textContent}`);
    return;
  }
  if (new Date(cert.facts.notAfter) < new Date() || cert.facts.expired) {
    setError("seal-error", "The certificate has expired: ask for the cluster's current certificate.");
    return;
  }
  try {
    sealed = await sealSecret(cert.key, cert.facts, input);
  } catch (e) {
    setError("seal-error", "This browser could not encrypt (it needs WebCrypto: a current browser, over https or on localhost).");
    return;
  }
  render();
  $("output").hidden = false;
  $("result").focus();
}

function render() {
  $("result").value = $("format").value === "json" ? toJson(sealed) : toYaml(sealed);
}

function loadPaste() {
  setError("paste-error", "", $("paste-text"));
  let secret;
  try {
    secret = secretFromManifest(parseManifest($("paste-text").value));
  } catch (e) {
    if (!(e instanceof PasteError)) throw e;
    setError("paste-error", e.message, $("paste-text"));
    return;
  }
  $("name").value = secret.name;
  $("namespace").value = secret.namespace;
  $("type").value = secret.type;
  const annotations = secret.annotations || {};
  $("scope").value = annotations["sealedsecrets.bitnami.com/cluster-wide"] === "true" ? "cluster-wide" : annotations["sealedsecrets.bitnami.com/namespace-wide"] === "true" ? "namespace-wide" : "strict";
  kept = { labels: secret.labels, annotations: secret.annotations, immutable: secret.immutable };
  showKept();
  $("items").replaceChildren();
  for (const [key, bytes] of secret.items) addRow(key, bytes);
  if (!secret.items.length) addRow();
  // The manifest held the values: it is not kept once the form has them.
  $("paste-text").value = "";
  namespaceChanged(0);
}

function namespaceWords(namespace) {
  return namespace === "" ? "no namespace (the cluster's certificate)" : `namespace ${namespace}`;
}

// Whose key the facts say the certificate is.
function ownerWords(owner) {
  if (owner === "cluster") return "the cluster's key";
  if (typeof owner === "string" && owner.startsWith("tenant=")) return `tenant ${owner.slice("tenant=".length)}'s key`;
  if (owner === "given certificate") return "the given certificate (the same for every namespace)";
  return "a key of unknown owner";
}

// The namespace to load a certificate for: the field's, when it is one ("" for none).
function fieldNamespace() {
  const namespace = $("namespace").value.trim();
  return rules.checkNamespace(namespace, "cluster-wide") === null ? namespace : null;
}

// Loads the certificate for `namespace`, unless it is the one loaded or being loaded.
function loadCert(namespace) {
  if (certLoad && certLoad.namespace === namespace && !certLoad.failed) return certLoad.promise;
  const load = { namespace, failed: false };
  certLoad = load;
  load.promise = fetchCert(load);
  return load.promise;
}

// Follows the namespace field: a certificate for what is typed, once typing pauses.
function namespaceChanged(wait) {
  clearTimeout(certTimer);
  certTimer = setTimeout(() => {
    const namespace = fieldNamespace();
    if (namespace !== null) loadCert(namespace);
  }, wait);
}

async function fetchCert(load) {
  const { namespace } = load;
  const where = namespace === "" ? "" : ` for namespace ${namespace}`;
  cert = null;
  delete document.body.dataset.owner;
  document.body.dataset.ready = "false";
  $("seal").disabled = false;
  $("cert-facts").hidden = true;
  $("cert-status").textContent = `Loading the certificate${where}…`;
  const failed = (text) => {
    load.failed = true;
    if (certLoad === load) $("cert-status").textContent = text;
  };
  const url = namespace === "" ? "cert.json" : `cert.json?namespace=${encodeURIComponent(namespace)}`;
  let facts;
  try {
    const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) {
      // The server's reason names the namespace or tenant, never a value.
      const reason = (await response.text()).trim().slice(0, 300);
      failed(response.status === 503
        ? `The certificate${where} is not ready yet (${reason}). Sealing is refused; try again in a moment.`
        : `The server has no certificate${where} (${response.status}: ${reason}). Sealing is refused.`);
      return;
    }
    facts = await response.json();
  } catch (e) {
    failed(`Could not load the certificate${where} from the server. Reload to try again.`);
    return;
  }
  if (certLoad !== load) return; // another namespace was asked for meanwhile
  $("cert-fingerprint").textContent = facts.fingerprint;
  $("cert-owner").textContent = ownerWords(facts.owner);
  $("cert-namespace").textContent = namespace === "" ? "none (the cluster's certificate)" : namespace;
  $("cert-bits").textContent = `RSA ${facts.bits} bits`;
  $("cert-expiry").textContent = facts.notAfter;
  $("cert-facts").hidden = false;
  document.body.dataset.owner = facts.owner;
  if (facts.expired || new Date(facts.notAfter) < new Date()) {
    $("cert-status").textContent = "This certificate has expired: sealing is refused.";
    $("seal").disabled = true;
    return;
  }
  if (!window.isSecureContext || !window.crypto?.subtle) {
    // Browsers offer WebCrypto only over https or on localhost (kubectl port-forward or proxy).
    failed("This browser encrypts only on a secure page: open it over https, or on localhost (kubectl port-forward, kubectl proxy, sealant web).");
    return;
  }
  let key;
  try {
    key = await importKey(facts);
  } catch (e) {
    failed("This browser cannot use the certificate's key (it needs WebCrypto RSA-OAEP).");
    return;
  }
  if (certLoad !== load) return;
  cert = { facts, key, namespace };
  $("cert-status").textContent = `Ready to seal for ${namespaceWords(namespace)} with ${ownerWords(facts.owner)}.`;
  document.body.dataset.ready = "true";
}

function download() {
  const json = $("format").value === "json";
  const blob = new Blob([$("result").value], { type: json ? "application/json" : "application/yaml" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `${sealed.metadata.name}.sealed.${json ? "json" : "yaml"}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function copy() {
  try {
    await navigator.clipboard.writeText($("result").value);
    $("copy-status").textContent = "Copied.";
  } catch {
    $("result").select();
    $("copy-status").textContent = "Select the text and copy it (this browser refused clipboard access).";
  }
}

addRow();
$("add-item").addEventListener("click", () => addRow().querySelector(".item-key").focus());
$("seal").addEventListener("click", seal);
$("clear").addEventListener("click", clearValues);
$("paste-load").addEventListener("click", loadPaste);
$("format").addEventListener("change", () => sealed && render());
$("copy").addEventListener("click", copy);
$("download").addEventListener("click", download);
$("namespace").addEventListener("input", () => namespaceChanged(300));
$("namespace").addEventListener("change", () => namespaceChanged(0));
loadCert(fieldNamespace() ?? "");
