//! Man pages: clap_mangen's sections, plus EXAMPLES and EXIT STATUS for every command (man
//! readers look for those headings; clap has no field for them).

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::args::Cli;
use crate::io::IoError;

/// The exit statuses most commands share (docs: `sealant --help`, README.md).
const EXIT_DEFAULT: &[(&str, &str)] = &[
    ("0", "success"),
    (
        "1",
        "failure: bad input, cannot decrypt, I/O, cluster or controller errors",
    ),
    (
        "2",
        "usage error: unknown flag, missing or conflicting arguments",
    ),
];

/// Examples of one command, by its page name (`sealant-seal`): a comment, then the command.
fn examples(page: &str) -> &'static [(&'static str, &'static str)] {
    match page {
        "sealant" => &[
            (
                "Seal a Secret file with the controller's certificate",
                "sealant seal -f secret.yaml -w sealed.yaml",
            ),
            ("Review a change without keys", "sealant diff --git HEAD"),
            ("Before a commit", "sealant lint ."),
        ],
        "sealant-seal" => &[
            (
                "Seal a Secret file (or `kubectl get secret -o yaml` output, a List)",
                "sealant seal -f secret.yaml -w sealed.yaml",
            ),
            (
                "Build and seal a Secret without writing it to disk first",
                "sealant seal db-creds -n prod --from-literal user=app --from-file password=./pw.txt",
            ),
            (
                "Seal offline against a saved certificate",
                "sealant seal -f secret.yaml --cert cert.pem",
            ),
            (
                "Add or change one item of an existing SealedSecret file",
                "sealant seal db-creds -n prod --from-literal password=new --merge-into sealed.yaml",
            ),
        ],
        "sealant-unseal" => &[(
            "Recover Secrets with a backup of the controller's keys",
            "sealant unseal -f sealed.yaml --recovery-private-key keys-backup.yaml",
        )],
        "sealant-cert" => &[(
            "Save the controller's certificate for offline sealing",
            "sealant cert -w cert.pem",
        )],
        "sealant-validate" => &[(
            "Ask the controller whether it can unseal a file",
            "sealant validate -f sealed.yaml",
        )],
        "sealant-reencrypt" => &[
            (
                "Re-encrypt a repository in place after a key rotation",
                "sealant reencrypt manifests/",
            ),
            (
                "In CI: fail while anything is sealed to an older key",
                "sealant reencrypt --check manifests/",
            ),
        ],
        "sealant-lint" => &[
            ("Before a commit", "sealant lint ."),
            ("For CI annotations", "sealant lint -o json . > lint.json"),
        ],
        "sealant-inspect" => &[(
            "What a SealedSecret holds, as YAML",
            "sealant inspect -o yaml sealed.yaml",
        )],
        "sealant-diff" => &[
            ("Review a change without keys", "sealant diff --git HEAD"),
            ("Two files", "sealant diff old.yaml new.yaml"),
        ],
        "sealant-kustomize" => &[(
            "Run as a KRM function by hand",
            "sealant kustomize < resource-list.yaml",
        )],
        "sealant-completions" => &[(
            "bash completions, for `sealant` and a `kubeseal` link",
            "sealant completions bash > /etc/bash_completion.d/sealant",
        )],
        "sealant-kubeseal" => &[(
            "Seal with upstream kubeseal's flags (or link sealant as `kubeseal`)",
            "sealant kubeseal --cert cert.pem -o yaml < secret.yaml > sealed.yaml",
        )],
        "sealant-keys" | "sealant-keys-list" => &[(
            "The controller's keys and what still needs each",
            "sealant keys list",
        )],
        "sealant-keys-backup" => &[(
            "Back up every key, encrypted to an offline age recipient",
            "sealant keys backup --recipient age1... -w keys.age",
        )],
        "sealant-keys-restore" => &[(
            "Restore a backup into the controller's namespace",
            "sealant keys restore -f keys.age --identity offline.txt --apply",
        )],
        "sealant-keys-share-decrypt" => &[(
            "Your share of an m-of-n backup, encrypted to the person who restores",
            "sealant keys share-decrypt -f keys.backup --identity me.txt -r age1... -w me.share.age",
        )],
        "sealant-keys-rotate" => &[(
            "A new key now, then re-encrypt the repository",
            "sealant keys rotate && sealant reencrypt manifests/",
        )],
        "sealant-keys-retire" | "sealant-keys-compromise" | "sealant-keys-reactivate" => &[(
            "Fingerprints come from `sealant keys list`",
            "sealant keys list",
        )],
        "sealant-keys-protect" => &[(
            "Wrap every RSA key under an AWS KMS key, after a fresh backup",
            "sealant keys protect --backup keys.age --identity offline.txt --key-protection aws-kms --aws-kms-region eu-west-1 --aws-kms-key-id alias/sealant",
        )],
        "sealant-keys-unprotect" => &[(
            "Back to upstream's plaintext key Secrets",
            "sealant keys unprotect --key-protection aws-kms --aws-kms-region eu-west-1 --aws-kms-key-id alias/sealant",
        )],
        "sealant-web" => &[
            (
                "Seal in a browser for the current context's controller (prints the address)",
                "sealant web",
            ),
            (
                "The same for a saved certificate, on a fixed port",
                "sealant web --cert cert.pem --port 8700",
            ),
        ],
        _ => &[],
    }
}

/// Exit statuses of one command, by its page name.
fn exit_statuses(page: &str) -> &'static [(&'static str, &'static str)] {
    match page {
        "sealant-lint" => &[
            ("0", "no error (warnings allowed unless --deny-warnings)"),
            ("1", "findings"),
            (
                "2",
                "the check could not run (unreadable path or certificate, bad flags)",
            ),
        ],
        "sealant-diff" => &[
            ("0", "no difference"),
            ("1", "differences"),
            ("2", "the comparison could not run"),
        ],
        "sealant-reencrypt" => &[
            ("0", "done (--check: nothing stale)"),
            ("1", "--check found stale SealedSecrets"),
            (
                "2",
                "errors: bad flags or paths, no SealedSecret found, one that cannot be re-encrypted",
            ),
        ],
        "sealant-keys-retire" | "sealant-keys-reactivate" => &[
            ("0", "success"),
            ("1", "failure: cluster errors, unknown key"),
            (
                "2",
                "usage error, or refused because something may still need the key (--force overrides)",
            ),
        ],
        "sealant-keys-protect" => &[
            ("0", "success (keys already protected are skipped)"),
            (
                "1",
                "failure: cluster, HSM or KMS errors (keys written so far stay protected, the rest plaintext)",
            ),
            (
                "2",
                "usage error, or refused: no backup, or one that lacks keys (--i-have-a-backup overrides)",
            ),
        ],
        "sealant-keys-restore" | "sealant-unseal" => &[
            ("0", "success"),
            (
                "1",
                "failure: bad input, cannot decrypt, I/O or cluster errors",
            ),
            ("2", "usage error"),
            (
                "3",
                "an m-of-n backup got fewer shares than its threshold: nothing was restored",
            ),
        ],
        _ => EXIT_DEFAULT,
    }
}

/// Escapes text for roff: backslashes, hyphens (so that flags stay copyable), and a leading
/// dot or quote (control characters).
fn roff_escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// Renders one page: clap_mangen's sections, our EXAMPLES and EXIT STATUS, then the command's
/// long after-help as NOTES (the top page's is its examples and exit codes, rendered above).
fn render(man: &clap_mangen::Man, cmd: &clap::Command, page: &str) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|arg| !arg.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.get_subcommands().any(|sub| !sub.is_hide_set()) {
        man.render_subcommands_section(&mut out)?;
    }
    let examples = examples(page);
    if !examples.is_empty() {
        writeln!(out, ".SH EXAMPLES")?;
        for (comment, command) in examples {
            writeln!(
                out,
                ".PP\n{}\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE",
                roff_escape(comment),
                roff_escape(command)
            )?;
        }
    }
    writeln!(out, ".SH \"EXIT STATUS\"")?;
    for (code, meaning) in exit_statuses(page) {
        writeln!(out, ".TP\n{code}\n{}", roff_escape(meaning))?;
    }
    if page != "sealant"
        && let Some(notes) = cmd.get_after_long_help().or_else(|| cmd.get_after_help())
    {
        writeln!(out, ".SH NOTES")?;
        for paragraph in notes.to_string().split("\n\n") {
            writeln!(out, ".PP\n{}", roff_escape(&paragraph.replace('\n', " ")))?;
        }
    }
    if cmd.get_version().is_some() {
        man.render_version_section(&mut out)?;
    }
    Ok(out)
}

/// The top-level page (`sealant man`).
///
/// # Errors
/// Only if rendering fails.
pub fn page() -> Result<Vec<u8>, IoError> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    render(&clap_mangen::Man::new(cmd.clone()), &cmd, "sealant").map_err(IoError::ManPage)
}

/// Writes `sealant.1` and one page per visible subcommand (`sealant-seal.1`, …) to `dir`.
///
/// # Errors
/// The directory or a file cannot be written.
pub fn write_pages(dir: &Path) -> std::io::Result<()> {
    fn each(cmd: &clap::Command, dir: &Path) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            each(sub, dir)?;
        }
        let man = clap_mangen::Man::new(cmd.clone());
        let file = man.get_filename();
        let page = file.strip_suffix(".1").unwrap_or(&file);
        std::fs::write(dir.join(&file), render(&man, cmd, page)?)
    }
    std::fs::create_dir_all(dir)?;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    each(&cmd, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_examples_and_exit_status() {
        let dir = tempfile::tempdir().unwrap();
        write_pages(dir.path()).unwrap();
        let mut pages = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(".SH EXAMPLES\n"), "{}", path.display());
            assert!(text.contains(".SH \"EXIT STATUS\"\n"), "{}", path.display());
            pages += 1;
        }
        assert!(pages > 10, "{pages} pages");
        let lint = std::fs::read_to_string(dir.path().join("sealant-lint.1")).unwrap();
        assert!(lint.contains(".TP\n1\nfindings\n"), "{lint}");
    }

    #[test]
    fn roff_control_characters_are_escaped() {
        assert_eq!(roff_escape(".hidden -o x\\y"), "\\&.hidden \\-o x\\ey");
    }
}
