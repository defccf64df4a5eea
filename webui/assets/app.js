// The page: loads the certificate's facts, checks the form, seals in this browser and shows
// the SealedSecret. Values live only in the form's fields; nothing is stored or sent
// (docs/webui.md). The one request the page makes is for `cert.json`, next to it.

import { importKey, sealSecret } from "./seal.js";
import { toJson, toYaml } from "./yaml.js";
import { parseManifest, secretFromManifest, PasteError } from "./paste.js";
import * as rules from "./rules.js";

const $ = (id) => document.getElementById(id);
let cert = null; // { facts, key }
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
  if (!cert) {
    setError("seal-error", "There is no usable certificate to seal with.");
    return;
  }
  if (new Date(cert.facts.notAfter) < new Date() || cert.facts.expired) {
    setError("seal-error", "The certificate has expired: ask for the cluster's current certificate.");
    return;
  }
  const input = readForm();
  if (!input) {
    const invalid = document.querySelector('[aria-invalid="true"]');
    if (invalid) invalid.focus();
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
}

async function loadCert() {
  let facts;
  try {
    const response = await fetch("cert.json", { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    facts = await response.json();
  } catch (e) {
    $("cert-status").textContent = "Could not load the certificate from the server. Reload to try again.";
    return;
  }
  $("cert-fingerprint").textContent = facts.fingerprint;
  $("cert-bits").textContent = `RSA ${facts.bits} bits`;
  $("cert-expiry").textContent = facts.notAfter;
  $("cert-facts").hidden = false;
  if (facts.expired || new Date(facts.notAfter) < new Date()) {
    $("cert-status").textContent = "This certificate has expired: sealing is refused.";
    $("seal").disabled = true;
    return;
  }
  if (!window.isSecureContext || !window.crypto?.subtle) {
    // Browsers offer WebCrypto only over https or on localhost (kubectl port-forward or proxy).
    $("cert-status").textContent = "This browser encrypts only on a secure page: open it over https, or on localhost (kubectl port-forward, kubectl proxy, sealant web).";
    return;
  }
  try {
    cert = { facts, key: await importKey(facts) };
  } catch (e) {
    $("cert-status").textContent = "This browser cannot use the certificate's key (it needs WebCrypto RSA-OAEP).";
    return;
  }
  $("cert-status").textContent = "Ready to seal for this certificate.";
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
loadCert();
