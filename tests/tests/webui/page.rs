//! The sealing page's own checks, each in the browser the caller opened (see `super`): the
//! YAML writer against the CLI's, CSP, keyboard and labels, inline errors for bad input.

use super::*;

/// The page's YAML writer against the CLI's on awkward strings, as keys and as values.
pub(super) fn check_yaml_quoting(browser: &Browser) -> anyhow::Result<()> {
    let mut strings: Vec<String> = [
        "yes",
        "No",
        "on",
        "y",
        "~",
        "null",
        "NULL",
        "true",
        "1",
        "-1",
        "+1",
        "0x1F",
        "0o17",
        "0b101",
        "1_000",
        "1e3",
        ".5",
        "5.",
        ".inf",
        "-.INF",
        ".nan",
        "1:20",
        "190:20:30.15",
        "2026-01-01",
        "2026-1-1 10:00:00 +02:00",
        "2026-01-01T10:00:00Z",
        "<<",
        "=",
        "-",
        "?",
        "- a",
        "-a",
        ":a",
        "a:",
        "a: b",
        "a:b",
        "a #b",
        "a#b",
        "#a",
        "&a",
        "*a",
        "!a",
        "|",
        ">",
        "'a'",
        "\"a\"",
        "%a",
        "@a",
        "`a",
        "{a}",
        "[a]",
        "a,b",
        " a",
        "a ",
        "---",
        "--- a",
        "...",
        "a\tb",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "\u{2028}",
        "\u{feff}a",
        "\u{1b}",
        "é",
        "日本",
        "\\",
        "a'b",
        "0755",
        "Opaque",
        "kubernetes.io/tls",
        "SHA256:abc/def+g=",
        "1.2.3",
        "0.",
        "+.5",
        "_1",
        "1__0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // And short random strings over the characters that matter.
    let alphabet: Vec<char> = "aZ019-._:#'\" \\?!&*@`%|>{[,~exobyn+=<é\u{85}\u{2028}\t"
        .chars()
        .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..1500 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let len = 1 + (state >> 60) as usize % 6;
        let s: String = (0..len)
            .map(|i| alphabet[((state >> (8 * i)) as usize) % alphabet.len()])
            .collect();
        strings.push(s);
    }
    let page = browser.execute_async(
        "const [strings, done] = arguments;\
         import('./yaml.js').then(m => done(strings.map(s => m.toYaml({ [s]: s }))), e => done(String(e)));",
        json!([strings]),
    )?;
    let page = page.as_array().context("the page's writer failed")?;
    for (s, text) in strings.iter().zip(page) {
        let cli = format!("---\n{}", sealant_core::yaml::to_string(&json!({ s: s }))?);
        ensure!(
            text.as_str() == Some(cli.as_str()),
            "{s:?}: page {text} vs CLI {cli:?}"
        );
    }
    Ok(())
}

/// An injected inline script does not run and is reported; a request elsewhere is blocked.
pub(super) fn check_csp(browser: &Browser) -> anyhow::Result<()> {
    let outcome = browser.execute_async(
        "const done = arguments[0]; const seen = [];\
         document.addEventListener('securitypolicyviolation', e => seen.push(e.violatedDirective));\
         const s = document.createElement('script'); s.textContent = 'window.injected = 1;';\
         document.head.appendChild(s);\
         fetch('http://127.0.0.1:9/x').then(() => 'sent', () => 'blocked').then(f =>\
           setTimeout(() => done({ ran: window.injected === 1, fetch: f, seen }), 200));",
        json!([]),
    )?;
    ensure!(
        outcome["ran"] == json!(false),
        "the injected script ran: {outcome}"
    );
    ensure!(outcome["fetch"] == json!("blocked"), "{outcome}");
    let seen = outcome["seen"].to_string();
    ensure!(
        seen.contains("script-src") && seen.contains("connect-src"),
        "violations: {seen}"
    );
    Ok(())
}

/// Every field has a label; Tab reaches Seal and Enter presses it.
pub(super) fn check_keyboard_and_labels(browser: &Browser) -> anyhow::Result<()> {
    let unlabelled = browser.execute(
        "return [...document.querySelectorAll('input, select, textarea')]\
           .filter(e => e.labels.length === 0 || !e.labels[0].textContent.trim()).map(e => e.id || e.className);",
        json!([]),
    )?;
    ensure!(
        unlabelled == json!([]),
        "fields without a label: {unlabelled}"
    );
    fill(
        browser,
        &Form {
            namespace: "shop",
            name: "kb",
            scope: "strict",
            type_: "Opaque",
            items: &[("k", "v")],
        },
    )?;
    browser.execute(
        "document.getElementById('output').hidden = true;",
        json!([]),
    )?;
    browser.find("#type")?.click()?;
    let mut reached = false;
    for _ in 0..20 {
        browser.active()?.send_keys(TAB)?;
        if browser.active()?.id()? == "seal" {
            reached = true;
            break;
        }
    }
    ensure!(reached, "Tab never reached the Seal button");
    browser.active()?.send_keys(ENTER)?;
    browser.wait_until("!document.getElementById('output').hidden")
}

/// Bad input gets inline errors, and nothing is sealed.
pub(super) fn check_bad_input(browser: &Browser) -> anyhow::Result<()> {
    let error_of = |id: &str| -> anyhow::Result<String> {
        Ok(browser
            .find(&format!("#{id}"))?
            .property("textContent")?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    };
    fill(
        browser,
        &Form {
            namespace: "shop",
            name: "",
            scope: "strict",
            type_: "Opaque",
            items: &[("bad key!", "v")],
        },
    )?;
    browser.find("#seal")?.click()?;
    ensure!(error_of("name-error")?.contains("name"), "empty name");
    ensure!(browser.find("#name")?.property("ariaInvalid")? == json!("true"));
    let key_error = browser
        .find("#items .item-error")?
        .property("textContent")?;
    ensure!(
        key_error.as_str().is_some_and(|e| e.contains("letters")),
        "bad key: {key_error}"
    );
    ensure!(
        browser.find("#output")?.property("hidden")? == json!(true),
        "sealed despite errors"
    );

    fill(
        browser,
        &Form {
            namespace: "Shop_1",
            name: "ok",
            scope: "strict",
            type_: "Opaque",
            items: &[("big", "x")],
        },
    )?;
    browser.execute(
        "document.querySelector('.item-value').value = 'x'.repeat(1048577);",
        json!([]),
    )?;
    browser.find("#seal")?.click()?;
    ensure!(
        error_of("namespace-error")?.contains("namespace"),
        "bad namespace"
    );
    ensure!(
        error_of("items-error")?.contains("1 MiB"),
        "oversized: {}",
        error_of("items-error")?
    );

    for (manifest, needle) in [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n",
            "not a Secret",
        ),
        ("{\"kind\": \"Secret\", ", "not valid JSON"),
        ("kind: Secret\nmetadata:\n  name: &a x\n", "anchors"),
    ] {
        set_value(browser, "#paste-text", manifest)?;
        browser.find("#paste-load")?.click()?;
        let error = error_of("paste-error")?;
        ensure!(error.contains(needle), "{manifest:?}: {error}");
    }
    Ok(())
}
