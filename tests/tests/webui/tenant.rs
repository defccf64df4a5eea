//! Tenant keys in the sealing page (see `super`): it seals with the certificate of the
//! namespace typed, and `sealant web` answers per namespace like `sealant seal`.

use super::*;

/// The tenant label key of the controller test, its own (see there).
pub(super) const WEBUI_TENANT_LABEL: &str = "webui.sealant.test/tenant";
pub(super) const WEBUI_TENANT: &str = "webui";

/// The fingerprint of the facts in `body`, after checking their owner.
pub(super) fn facts_of(body: &str, owner: &str) -> anyhow::Result<String> {
    let facts: Value = serde_json::from_str(body)?;
    ensure!(facts["owner"] == json!(owner), "facts of {facts}");
    facts["fingerprint"]
        .as_str()
        .map(str::to_owned)
        .context("no fingerprint")
}

/// The key hint of a SealedSecret.
pub(super) fn hint(object: &SealedSecret) -> String {
    object
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(sealant_core::sealing::KEY_HINT_ANNOTATION))
        .cloned()
        .unwrap_or_default()
}

/// In a second browser: the page loads the certificate of the namespace typed, says it is
/// the tenant's, and seals with it; for a namespace without a certificate (`bad`: its label
/// names no tenant) it refuses to seal, inline.
pub(super) fn seal_for_tenant(
    page: &str,
    namespace: &str,
    bad: &str,
    value: &str,
) -> anyhow::Result<String> {
    let browser = Browser::start()?;
    open(&browser, page)?;
    let form = Form {
        namespace,
        name: "for-tenant",
        scope: "strict",
        type_: "Opaque",
        items: &[("value", value)],
    };
    fill(&browser, &form)?;
    let (yaml, _) = seal(&browser)?;
    let shown = browser.execute(
        "return [document.body.dataset.owner, document.getElementById('cert-owner').textContent, \
         document.getElementById('cert-namespace').textContent];",
        json!([]),
    )?;
    ensure!(
        shown
            == json!([
                format!("tenant={WEBUI_TENANT}"),
                format!("tenant {WEBUI_TENANT}'s key"),
                namespace
            ]),
        "the page shows {shown}"
    );
    set_value(&browser, "#namespace", bad)?;
    browser.find("#seal")?.click()?;
    browser.wait_until(
        "document.getElementById('seal-error').textContent.includes('Sealing is refused') \
         && document.getElementById('output').hidden",
    )?;
    // Back to a namespace of no tenant: the cluster's key again.
    set_value(&browser, "#namespace", "default")?;
    browser.find("#name")?.click()?;
    browser.wait_until(
        "document.body.dataset.ready === 'true' && document.body.dataset.owner === 'cluster'",
    )?;
    check_requests(&browser.requests()?, page, &[value])?;
    Ok(yaml)
}

/// `sealant web` without `--cert`: `cert.json?namespace=` is the certificate `sealant seal`
/// would use for that namespace (the tenant's), the plain one the cluster's.
pub(super) async fn check_cli_web_per_namespace(
    cluster: &sealant_tests::TestCluster,
    controller_ns: &str,
    tenant_ns: &str,
    fp_tenant: &str,
    fp_cluster: &str,
) -> anyhow::Result<()> {
    let addr = free_local_addr()?;
    let port = addr.rsplit(':').next().context("port")?.to_owned();
    let kubeconfig = cluster.kubeconfig_path().to_string_lossy().into_owned();
    let _server = Sealant::new(&[
        "web",
        "--no-cert-cache",
        "--port",
        &port,
        "--kubeconfig",
        &kubeconfig,
        "--controller-namespace",
        controller_ns,
        "--controller-name",
        PROXIED_SERVICE,
    ])?
    .spawn()?;
    let plain = sealant_tests::wait_for("sealant web", sealant_tests::DEFAULT_TIMEOUT, || {
        let addr = addr.clone();
        async move { Ok(sealant_tests::controller::http_get(&addr, "/cert.json").await) }
    })
    .await?;
    ensure!(facts_of(&plain, "cluster")? == fp_cluster);
    let path = format!("/cert.json?namespace={tenant_ns}");
    let tenant = sealant_tests::controller::http_get(&addr, &path)
        .await
        .context("sealant web: the tenant's facts")?;
    ensure!(facts_of(&tenant, &format!("tenant={WEBUI_TENANT}"))? == fp_tenant);
    Ok(())
}
