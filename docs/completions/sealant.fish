# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sealant_global_optspecs
    string join \n h/help V/version
end

function __fish_sealant_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sealant_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sealant_using_subcommand
    set -l cmd (__fish_sealant_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sealant -n "__fish_sealant_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_needs_command" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "seal" -d 'Seal Secrets (from files, stdin, or built from literals) into SealedSecrets'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "unseal" -d 'Recover Secrets from SealedSecrets offline, with the controller\'s private keys'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "cert" -d 'Print or save the controller\'s certificate (and age recipient), with fingerprint, key size and expiry'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "keys" -d 'The controller\'s keys: list, rotate, retire, mark compromised, back up, restore'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "validate" -d 'Ask the controller whether SealedSecrets can be unsealed'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "reencrypt" -d 'Re-encrypt SealedSecrets to the controller\'s newest key'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "lint" -d 'Find plain Secrets and broken SealedSecrets in files and directories (pre-commit, CI)'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "inspect" -d 'Show what a SealedSecret holds, without any key: scope, items, sizes, key sizes, key hint'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "diff" -d 'Compare SealedSecrets: items added, removed or re-sealed, scope and metadata changes'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "kustomize" -d 'Generate SealedSecrets during a kustomize build (exec plugin or KRM function)'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "web" -d 'Serve a page on 127.0.0.1 to seal in a browser; the values never leave the browser'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "completions" -d 'Print a shell completion script (with --kubeseal: for a `kubeseal` link)'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "man" -d 'Print the man page (roff), or write every page to a directory'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "kubeseal" -d 'Run with upstream kubeseal\'s flags and behaviour (also chosen when invoked as `kubeseal`)'
complete -c sealant -n "__fish_sealant_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sealant -n "__fish_sealant_using_subcommand seal" -s f -l file -l secret-file -d 'Secret file(s) to seal (YAML or JSON, several documents allowed); `-` is stdin' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l scope -d 'Scope: strict (name and namespace), namespace-wide, cluster-wide, or namespace-selector (sealant only). Default: the input\'s scope annotations, else strict' -r -f -a "strict\t''
namespace-wide\t''
cluster-wide\t''"
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l namespace-selector -d 'Bind the items to the namespaces this label selector matches (kubectl syntax, e.g. \'team=payments,env in (prod)\'): the namespace-selector scope, which only sealant controllers open (docs/multi-tenancy.md)' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l from-literal -d 'Add an item: KEY=VALUE (repeatable)' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l from-file -d 'Add an item from a file: [KEY=]PATH; a directory adds each file in it (repeatable)' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l from-env-file -d 'Add items from an env file of KEY=VALUE lines (repeatable)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l type -d 'Type of the Secret built from literals' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l name -d 'Secret name: the name for --raw, or a replacement for the input\'s name' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -s n -l namespace -d 'Namespace of the Secret (default: the context\'s namespace, else `default`)' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l merge-into -d 'Merge the sealed items into this SealedSecret file, in place (its format is kept)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l recovery-private-key -d 'With --merge-into: private keys that open the file\'s items here, offline. An item whose value did not change keeps its ciphertext byte for byte, so GitOps tools see no change. PEM files, key Secrets or a List; repeatable or comma-separated' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l cert -d 'Certificate to seal for: a file, an http(s):// or file:// URL. Repeatable: one SealedSecret that each cluster can unseal. Without --cert, --recipient or --recipients-file, the certificate is fetched from the controller' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l recipient -d 'age recipient to seal for (`age1…`, or post-quantum `age1pq1…`), e.g. a cluster\'s from `sealant cert --age`. Repeatable. With recipients, the controller is not asked for its certificate: name every cluster (--cert FILE for RSA ones)' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l recipients-file -d 'File of age recipients, one per line (`#` comments), as `age -R` reads it. Repeatable' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l layout -d 'How several recipients share the SealedSecret (only matters with more than one)' -r -f -a "compatible\t'Every value is the classic RSA item for the first --cert (upstream controllers holding that key unseal it); all other recipients share one age item per value in the `sealant.dev/age-items` annotation'
combined\t'Every value is one age item for all recipients: smaller, sealant controllers only'"
complete -c sealant -n "__fish_sealant_using_subcommand seal" -s w -l output-file -l sealed-secret-file -d 'Write to this file instead of stdout: atomically, mode 0600, only on success. A `.json` name selects JSON and `.yaml`/`.yml` YAML unless -o says otherwise' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand seal" -s o -l output -l format -d 'Output format' -r -f -a "yaml\t'YAML documents, each starting with `---`'
json\t'Pretty-printed JSON objects'"
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l allow-empty-data -d 'Seal a Secret with no data instead of refusing it'
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l raw -d 'Seal one raw value (from stdin, or the single --from-file) and print its base64 alone'
complete -c sealant -n "__fish_sealant_using_subcommand seal" -l no-cert-cache -d 'Never use or update the per-context certificate cache'
complete -c sealant -n "__fish_sealant_using_subcommand seal" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand seal" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -s f -l file -d 'SealedSecret file(s) to unseal; `-` is stdin' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -l recovery-private-key -d 'Private keys: PEM files, key Secrets (RSA or age; YAML/JSON) or a List of them, or age identity files. Repeatable, or comma-separated' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -l recovery-identity -d 'age identity file (`age-keygen` output, or age plugin identities). Its keys unseal age items sealed to them, and open the encrypted key backups given with --backup (or their shares). Repeatable' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -l backup -d 'An encrypted key backup (`sealant keys backup`), opened with --recovery-identity (or, for an m-of-n backup, with --share files), whose keys unseal directly. Repeatable' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -l share -d 'A share of an m-of-n --backup (`sealant keys share-decrypt` output, plain or age-encrypted to a --recovery-identity). Repeatable; docs/recovery.md' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -s w -l output-file -l sealed-secret-file -d 'Write to this file instead of stdout: atomically, mode 0600, only on success. A `.json` name selects JSON and `.yaml`/`.yml` YAML unless -o says otherwise' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -s o -l output -l format -d 'Output format' -r -f -a "yaml\t'YAML documents, each starting with `---`'
json\t'Pretty-printed JSON objects'"
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -l accept-deprecated-v1-data -d 'Accept the deprecated v1 `spec.data` format'
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand unseal" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand cert" -l cert -d 'Certificate to seal with: a file, an http(s):// or file:// URL. Without it, the certificate is fetched from the controller through the Kubernetes API' -r
complete -c sealant -n "__fish_sealant_using_subcommand cert" -s w -l output-file -d 'Save the PEM (or, with --age, the recipient) to this file instead of printing it' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand cert" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand cert" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand cert" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand cert" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand cert" -l no-cert-cache -d 'Never use or update the per-context certificate cache'
complete -c sealant -n "__fish_sealant_using_subcommand cert" -l age -d 'Print (or save) the controller\'s age recipient instead of the certificate; an error if the controller publishes none (upstream controllers, or `--age-keys=false`)'
complete -c sealant -n "__fish_sealant_using_subcommand cert" -s h -l help -d 'Print help'
complete -c sealant -n "__fish_sealant_using_subcommand cert" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -s h -l help -d 'Print help'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "backup" -d 'Write every key of a controller (RSA and age key Secrets) as one age file encrypted to offline age recipients. `age -d -i IDENTITY FILE` decrypts it without sealant'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "restore" -d 'Decrypt a key backup and create its key Secrets in the controller namespace (--apply), or print them as YAML'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "share-decrypt" -d 'Open your share of an m-of-n key backup with your identity, and write it for the person who restores (plain, or encrypted to their age recipient)'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "list" -d 'List the controller\'s keys (RSA and age, every state) and how many SealedSecrets in the cluster still need each one'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "rotate" -d 'Ask the controller for a new sealing key now, and wait for it'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "retire" -d 'Take a key out of service: it no longer seals nor unseals. Refused while anything in the cluster may still need it, unless --force'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "compromise" -d 'Mark a key as exposed: it never seals again, but still unseals until everything sealed to it is re-encrypted; objects that need it get a KeyCompromised condition'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "reactivate" -d 'Put a retired or compromised key back into service (active). A compromised key that would become the sealing key needs --force'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "protect" -d 'Wrap the controller\'s RSA keys in place under a key-encryption key in an HSM (PKCS#11) or AWS KMS: the key Secrets then hold no plaintext private key. Needs a backup first'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "unprotect" -d 'Turn protected keys back into upstream\'s plaintext key Secrets (to switch key protection off, or back to upstream)'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and not __fish_seen_subcommand_from backup restore share-decrypt list rotate retire compromise reactivate protect unprotect help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l recipient -d 'Backup recipient (`age1…`, post-quantum `age1pq1…`, or an age plugin\'s `age1NAME1…`). Repeatable. With --threshold, each one holds a share of its own' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l recipients-file -d 'File of backup recipients, one per line. Repeatable. With --threshold, each line holds a share of its own' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l threshold -d 'Write an m-of-n backup: any M holders (each --recipient, recipients-file line and --group) restore it together, fewer learn nothing. docs/recovery.md' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l group -d 'With --threshold: one holder made of several recipients, any of whom opens its share: `[LABEL=]RECIPIENT[,RECIPIENT…]` (LABEL names the share in the file). Repeatable' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -s f -l file -d 'Back up key Secrets from these files (YAML/JSON, a List or a stream; `-` is stdin) instead of reading them from the cluster' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l tenant -d 'Back up only this tenant\'s keys (key Secrets labelled sealant.dev/tenant=TENANT). Default: every key, the cluster\'s and every tenant\'s' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -s w -l output-file -d 'Write the backup to this file (atomically, mode 0600) instead of stdout' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -s o -l output -d 'Output format: binary age, or ASCII-armored (`-----BEGIN AGE ENCRYPTED FILE-----`)' -r -f -a "binary\t'Binary age'
armor\t'ASCII-armored age, safe to paste'"
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l key-protection -d 'The provider: pkcs11 or aws-kms' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l pkcs11-module -d 'PKCS#11: the vendor\'s module (shared library)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l pkcs11-token-label -d 'PKCS#11: the token\'s label' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l pkcs11-pin-file -d 'PKCS#11: a file holding the user PIN (else $SEALANT_PKCS11_PIN)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l pkcs11-kek-label -d 'PKCS#11: the label of the AES-256 key-encryption key on the token' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l aws-kms-region -d 'AWS KMS: the region (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l aws-kms-key-id -d 'AWS KMS: the key-encryption key (key id, ARN, alias name or alias ARN)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l aws-kms-endpoint -d 'AWS KMS: endpoint override (default https://kms.REGION.amazonaws.com)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -l armor -d 'Same as `-o armor`'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from backup" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -s f -l file -d 'The backup file (binary or armored); `-` is stdin' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -l identity -d 'age identity file that opens the backup, or its shares (age plugin identities too). Repeatable' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -l share -d 'A share of an m-of-n backup (`sealant keys share-decrypt` output, plain or age-encrypted to an --identity). Repeatable; docs/recovery.md' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -s w -l output-file -d 'Without --apply: write the key Secrets to this file (mode 0600) instead of stdout' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -s o -l output -d 'Without --apply: the key Secrets\' format (default: yaml)' -r -f -a "yaml\t'YAML documents, each starting with `---`'
json\t'Pretty-printed JSON objects'"
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -l apply -d 'Create the key Secrets in --controller-namespace. Existing ones with the same content are left alone; one with other content is an error (nothing is overwritten)'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from restore" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from share-decrypt" -s f -l file -d 'The m-of-n backup file; `-` is stdin' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from share-decrypt" -l identity -d 'Your age identity file (age plugin identities too). Repeatable' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from share-decrypt" -s r -l recipient -d 'Encrypt the share to the person who restores (their age recipient) instead of writing it in clear. Repeatable' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from share-decrypt" -l index -d 'Which share, when your identities open several (1-based, as in the backup)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from share-decrypt" -s w -l output-file -d 'Write the share to this file (atomically, mode 0600) instead of stdout' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from share-decrypt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from share-decrypt" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t'A table for people'
json\t'One JSON document for programs (schema in docs/rotation.md)'"
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -l tenant -d 'List this tenant\'s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster\'s' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -l sealed-secrets-namespace -d 'Count only the SealedSecrets of these namespaces (repeatable or comma-separated): for a controller that watches only some (`--all-namespaces=false`, `--additional-namespaces`), when other controllers\' SealedSecrets share the cluster. Default: every namespace' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -l all-tenants -d 'List every key, the cluster\'s and every tenant\'s, with a TENANT column'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l wait -d 'How long to wait for the new key (`30s`, `2m`); `0` asks without waiting' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l tenant -d 'Act on this tenant\'s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster\'s' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from rotate" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from rotate" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from retire" -l tenant -d 'Act on this tenant\'s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster\'s' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from retire" -l sealed-secrets-namespace -d 'Count only the SealedSecrets of these namespaces (repeatable or comma-separated): for a controller that watches only some (`--all-namespaces=false`, `--additional-namespaces`), when other controllers\' SealedSecrets share the cluster. Default: every namespace' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from retire" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from retire" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from retire" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from retire" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from retire" -l force -d 'Retire it even though SealedSecrets still need it, have no inventory yet, or it is the sealing key. SealedSecrets that need it can no longer be unsealed'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from retire" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from retire" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from compromise" -l tenant -d 'Act on this tenant\'s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster\'s' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from compromise" -l sealed-secrets-namespace -d 'Count only the SealedSecrets of these namespaces (repeatable or comma-separated): for a controller that watches only some (`--all-namespaces=false`, `--additional-namespaces`), when other controllers\' SealedSecrets share the cluster. Default: every namespace' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from compromise" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from compromise" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from compromise" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from compromise" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from compromise" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from compromise" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from reactivate" -l tenant -d 'Act on this tenant\'s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster\'s' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from reactivate" -l sealed-secrets-namespace -d 'Count only the SealedSecrets of these namespaces (repeatable or comma-separated): for a controller that watches only some (`--all-namespaces=false`, `--additional-namespaces`), when other controllers\' SealedSecrets share the cluster. Default: every namespace' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from reactivate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from reactivate" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from reactivate" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from reactivate" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from reactivate" -l force -d 'Reactivate a compromised key even though it becomes the key the controller seals with: whoever holds a copy of it could open what is sealed from then on'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from reactivate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from reactivate" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l backup -d 'A `sealant keys backup` file; it must hold every RSA key now in the namespace' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l identity -d 'age identity file that opens --backup (to check what it holds). Repeatable' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l key-protection -d 'The provider: pkcs11 or aws-kms' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l pkcs11-module -d 'PKCS#11: the vendor\'s module (shared library)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l pkcs11-token-label -d 'PKCS#11: the token\'s label' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l pkcs11-pin-file -d 'PKCS#11: a file holding the user PIN (else $SEALANT_PKCS11_PIN)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l pkcs11-kek-label -d 'PKCS#11: the label of the AES-256 key-encryption key on the token' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l aws-kms-region -d 'AWS KMS: the region (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l aws-kms-key-id -d 'AWS KMS: the key-encryption key (key id, ARN, alias name or alias ARN)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l aws-kms-endpoint -d 'AWS KMS: endpoint override (default https://kms.REGION.amazonaws.com)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -l i-have-a-backup -d 'Skip the backup check: a copy of every key is kept somewhere else'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from protect" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l key-protection -d 'The provider: pkcs11 or aws-kms' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l pkcs11-module -d 'PKCS#11: the vendor\'s module (shared library)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l pkcs11-token-label -d 'PKCS#11: the token\'s label' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l pkcs11-pin-file -d 'PKCS#11: a file holding the user PIN (else $SEALANT_PKCS11_PIN)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l pkcs11-kek-label -d 'PKCS#11: the label of the AES-256 key-encryption key on the token' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l aws-kms-region -d 'AWS KMS: the region (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l aws-kms-key-id -d 'AWS KMS: the key-encryption key (key id, ARN, alias name or alias ARN)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l aws-kms-endpoint -d 'AWS KMS: endpoint override (default https://kms.REGION.amazonaws.com)' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from unprotect" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "backup" -d 'Write every key of a controller (RSA and age key Secrets) as one age file encrypted to offline age recipients. `age -d -i IDENTITY FILE` decrypts it without sealant'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "restore" -d 'Decrypt a key backup and create its key Secrets in the controller namespace (--apply), or print them as YAML'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "share-decrypt" -d 'Open your share of an m-of-n key backup with your identity, and write it for the person who restores (plain, or encrypted to their age recipient)'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the controller\'s keys (RSA and age, every state) and how many SealedSecrets in the cluster still need each one'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Ask the controller for a new sealing key now, and wait for it'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "retire" -d 'Take a key out of service: it no longer seals nor unseals. Refused while anything in the cluster may still need it, unless --force'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "compromise" -d 'Mark a key as exposed: it never seals again, but still unseals until everything sealed to it is re-encrypted; objects that need it get a KeyCompromised condition'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "reactivate" -d 'Put a retired or compromised key back into service (active). A compromised key that would become the sealing key needs --force'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "protect" -d 'Wrap the controller\'s RSA keys in place under a key-encryption key in an HSM (PKCS#11) or AWS KMS: the key Secrets then hold no plaintext private key. Needs a backup first'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "unprotect" -d 'Turn protected keys back into upstream\'s plaintext key Secrets (to switch key protection off, or back to upstream)'
complete -c sealant -n "__fish_sealant_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sealant -n "__fish_sealant_using_subcommand validate" -s f -l file -d 'SealedSecret file(s); `-` is stdin' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand validate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand validate" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand validate" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand validate" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand validate" -s h -l help -d 'Print help'
complete -c sealant -n "__fish_sealant_using_subcommand validate" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -s f -l file -d 'SealedSecret file(s) to re-encrypt to stdout (or -w); `-` is stdin' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -l private-key -d 'Offline: the old private keys (PEM files, key Secrets in YAML/JSON or a List of them). Repeatable, or comma-separated. Needs --cert' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -l cert -d 'Offline: the newest certificate (a file, an http(s):// or file:// URL) to re-encrypt to' -r
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -s w -l output-file -l sealed-secret-file -d 'Write to this file instead of stdout: atomically, mode 0600, only on success. A `.json` name selects JSON and `.yaml`/`.yml` YAML unless -o says otherwise' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -s o -l output -l format -d 'Output format' -r -f -a "yaml\t'YAML documents, each starting with `---`'
json\t'Pretty-printed JSON objects'"
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -l dry-run -d 'Report what would be re-encrypted (and that it can be), write nothing'
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -l check -d 'Exit 1 if any SealedSecret is sealed to a key other than the newest; write nothing'
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand reencrypt" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand lint" -l exclude -d 'Skip paths matching this glob (`*`, `?`, `**`), matched against the path and each of its trailing parts (`fixtures/**`, `*.example.yaml`). Repeatable' -r
complete -c sealant -n "__fish_sealant_using_subcommand lint" -l cert -d 'The controller\'s certificates, current and past (PEM files; repeatable). A key hint naming none of them is an error, one naming an expired one a warning' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand lint" -s o -l output -d 'Report format' -r -f -a "text\t'Lines for people'
json\t'One JSON document for programs (schema in docs/workflow.md)'
yaml\t'The JSON document as YAML'"
complete -c sealant -n "__fish_sealant_using_subcommand lint" -l deny-warnings -d 'Exit 1 on warnings too'
complete -c sealant -n "__fish_sealant_using_subcommand lint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand lint" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand inspect" -l cert -d 'Certificates to match the key hint against (PEM files; repeatable)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand inspect" -s o -l output -d 'Report format' -r -f -a "text\t'Lines for people'
json\t'One JSON document for programs (schema in docs/workflow.md)'
yaml\t'The JSON document as YAML'"
complete -c sealant -n "__fish_sealant_using_subcommand inspect" -l textconv -d 'Print a stable text for `git diff` (a git textconv filter): each SealedSecret as YAML with every item replaced by its format, size and digest; anything else as it is'
complete -c sealant -n "__fish_sealant_using_subcommand inspect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand diff" -l git -d 'Compare working-tree files with their version at this git revision' -r
complete -c sealant -n "__fish_sealant_using_subcommand diff" -l recovery-private-key -d 'Private keys to compare values with, offline: PEM files, key Secrets or a List. Repeatable or comma-separated' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand diff" -l cert -d 'Certificates to match key hints against (PEM files; repeatable)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand diff" -s o -l output -d 'Report format' -r -f -a "text\t'Lines for people'
json\t'One JSON document for programs (schema in docs/workflow.md)'
yaml\t'The JSON document as YAML'"
complete -c sealant -n "__fish_sealant_using_subcommand diff" -l show-values -d 'Print changed values in clear text (needs --recovery-private-key). Not for CI logs'
complete -c sealant -n "__fish_sealant_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand diff" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand kustomize" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sealant -n "__fish_sealant_using_subcommand kustomize" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand web" -l cert -d 'Certificate to seal with: a file, an http(s):// or file:// URL. Without it, the certificate is fetched from the controller through the Kubernetes API' -r
complete -c sealant -n "__fish_sealant_using_subcommand web" -l port -d 'Port on 127.0.0.1 to serve the page on (default: a free one, printed)' -r
complete -c sealant -n "__fish_sealant_using_subcommand web" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand web" -l context -d 'The kubeconfig context to use' -r
complete -c sealant -n "__fish_sealant_using_subcommand web" -l controller-name -d 'Name of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand web" -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c sealant -n "__fish_sealant_using_subcommand web" -l no-cert-cache -d 'Never use or update the per-context certificate cache'
complete -c sealant -n "__fish_sealant_using_subcommand web" -s h -l help -d 'Print help'
complete -c sealant -n "__fish_sealant_using_subcommand web" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand completions" -l kubeseal -d 'Complete kubeseal\'s flags for the name `kubeseal` (a link to sealant)'
complete -c sealant -n "__fish_sealant_using_subcommand completions" -s h -l help -d 'Print help'
complete -c sealant -n "__fish_sealant_using_subcommand completions" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand man" -l out-dir -d 'Write `sealant.1` and one page per subcommand (`sealant-seal.1`, …) here' -r -F
complete -c sealant -n "__fish_sealant_using_subcommand man" -s h -l help -d 'Print help'
complete -c sealant -n "__fish_sealant_using_subcommand man" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand kubeseal" -s V -l version -d 'Print version'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "seal" -d 'Seal Secrets (from files, stdin, or built from literals) into SealedSecrets'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "unseal" -d 'Recover Secrets from SealedSecrets offline, with the controller\'s private keys'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "cert" -d 'Print or save the controller\'s certificate (and age recipient), with fingerprint, key size and expiry'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "keys" -d 'The controller\'s keys: list, rotate, retire, mark compromised, back up, restore'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "validate" -d 'Ask the controller whether SealedSecrets can be unsealed'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "reencrypt" -d 'Re-encrypt SealedSecrets to the controller\'s newest key'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "lint" -d 'Find plain Secrets and broken SealedSecrets in files and directories (pre-commit, CI)'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "inspect" -d 'Show what a SealedSecret holds, without any key: scope, items, sizes, key sizes, key hint'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "diff" -d 'Compare SealedSecrets: items added, removed or re-sealed, scope and metadata changes'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "kustomize" -d 'Generate SealedSecrets during a kustomize build (exec plugin or KRM function)'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "web" -d 'Serve a page on 127.0.0.1 to seal in a browser; the values never leave the browser'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "completions" -d 'Print a shell completion script (with --kubeseal: for a `kubeseal` link)'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "man" -d 'Print the man page (roff), or write every page to a directory'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "kubeseal" -d 'Run with upstream kubeseal\'s flags and behaviour (also chosen when invoked as `kubeseal`)'
complete -c sealant -n "__fish_sealant_using_subcommand help; and not __fish_seen_subcommand_from seal unseal cert keys validate reencrypt lint inspect diff kustomize web completions man kubeseal help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "backup" -d 'Write every key of a controller (RSA and age key Secrets) as one age file encrypted to offline age recipients. `age -d -i IDENTITY FILE` decrypts it without sealant'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "restore" -d 'Decrypt a key backup and create its key Secrets in the controller namespace (--apply), or print them as YAML'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "share-decrypt" -d 'Open your share of an m-of-n key backup with your identity, and write it for the person who restores (plain, or encrypted to their age recipient)'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "list" -d 'List the controller\'s keys (RSA and age, every state) and how many SealedSecrets in the cluster still need each one'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "rotate" -d 'Ask the controller for a new sealing key now, and wait for it'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "retire" -d 'Take a key out of service: it no longer seals nor unseals. Refused while anything in the cluster may still need it, unless --force'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "compromise" -d 'Mark a key as exposed: it never seals again, but still unseals until everything sealed to it is re-encrypted; objects that need it get a KeyCompromised condition'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "reactivate" -d 'Put a retired or compromised key back into service (active). A compromised key that would become the sealing key needs --force'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "protect" -d 'Wrap the controller\'s RSA keys in place under a key-encryption key in an HSM (PKCS#11) or AWS KMS: the key Secrets then hold no plaintext private key. Needs a backup first'
complete -c sealant -n "__fish_sealant_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "unprotect" -d 'Turn protected keys back into upstream\'s plaintext key Secrets (to switch key protection off, or back to upstream)'
