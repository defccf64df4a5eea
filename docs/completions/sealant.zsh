#compdef sealant

autoload -U is-at-least

_sealant() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_sealant_commands" \
"*::: :->sealant" \
&& ret=0
    case $state in
    (sealant)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:sealant-command-$line[1]:"
        case $line[1] in
            (seal)
_arguments "${_arguments_options[@]}" : \
'*-f+[Secret file(s) to seal (YAML or JSON, several documents allowed); \`-\` is stdin]:FILE:_files' \
'*--file=[Secret file(s) to seal (YAML or JSON, several documents allowed); \`-\` is stdin]:FILE:_files' \
'*--secret-file=[Secret file(s) to seal (YAML or JSON, several documents allowed); \`-\` is stdin]:FILE:_files' \
'--scope=[Scope\: strict (name and namespace), namespace-wide, cluster-wide, or namespace-selector (sealant only). Default\: the input'\''s scope annotations, else strict]:SCOPE:(strict namespace-wide cluster-wide)' \
'--namespace-selector=[Bind the items to the namespaces this label selector matches (kubectl syntax, e.g. '\''team=payments,env in (prod)'\'')\: the namespace-selector scope, which only sealant controllers open (docs/multi-tenancy.md)]:SELECTOR:_default' \
'*--from-literal=[Add an item\: KEY=VALUE (repeatable)]:KEY=VALUE:_default' \
'*--from-file=[Add an item from a file\: \[KEY=\]PATH; a directory adds each file in it (repeatable)]:[KEY=]PATH:_default' \
'*--from-env-file=[Add items from an env file of KEY=VALUE lines (repeatable)]:PATH:_files' \
'--type=[Type of the Secret built from literals]:TYPE:_default' \
'--name=[Secret name\: the name for --raw, or a replacement for the input'\''s name]:NAME:_default' \
'-n+[Namespace of the Secret (default\: the context'\''s namespace, else \`default\`)]:NAMESPACE:_default' \
'--namespace=[Namespace of the Secret (default\: the context'\''s namespace, else \`default\`)]:NAMESPACE:_default' \
'(--raw -w --output-file)--merge-into=[Merge the sealed items into this SealedSecret file, in place (its format is kept)]:FILE:_files' \
'*--recovery-private-key=[With --merge-into\: private keys that open the file'\''s items here, offline. An item whose value did not change keeps its ciphertext byte for byte, so GitOps tools see no change. PEM files, key Secrets or a List; repeatable or comma-separated]:FILE:_files' \
'*--cert=[Certificate to seal for\: a file, an http(s)\:// or file\:// URL. Repeatable\: one SealedSecret that each cluster can unseal. Without --cert, --recipient or --recipients-file, the certificate is fetched from the controller]:PATH|URL:_default' \
'*--recipient=[age recipient to seal for (\`age1…\`, or post-quantum \`age1pq1…\`), e.g. a cluster'\''s from \`sealant cert --age\`. Repeatable. With recipients, the controller is not asked for its certificate\: name every cluster (--cert FILE for RSA ones)]:AGE_RECIPIENT:_default' \
'*--recipients-file=[File of age recipients, one per line (\`#\` comments), as \`age -R\` reads it. Repeatable]:FILE:_files' \
'--layout=[How several recipients share the SealedSecret (only matters with more than one)]:LAYOUT:((compatible\:"Every value is the classic RSA item for the first --cert (upstream controllers holding that key unseal it); all other recipients share one age item per value in the \`sealant.dev/age-items\` annotation"
combined\:"Every value is one age item for all recipients\: smaller, sealant controllers only"))' \
'-w+[Write to this file instead of stdout\: atomically, mode 0600, only on success. A \`.json\` name selects JSON and \`.yaml\`/\`.yml\` YAML unless -o says otherwise]:FILE:_files' \
'--output-file=[Write to this file instead of stdout\: atomically, mode 0600, only on success. A \`.json\` name selects JSON and \`.yaml\`/\`.yml\` YAML unless -o says otherwise]:FILE:_files' \
'--sealed-secret-file=[Write to this file instead of stdout\: atomically, mode 0600, only on success. A \`.json\` name selects JSON and \`.yaml\`/\`.yml\` YAML unless -o says otherwise]:FILE:_files' \
'-o+[Output format]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--output=[Output format]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--format=[Output format]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'--allow-empty-data[Seal a Secret with no data instead of refusing it]' \
'--raw[Seal one raw value (from stdin, or the single --from-file) and print its base64 alone]' \
'--no-cert-cache[Never use or update the per-context certificate cache]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
'::name -- Name of a Secret to build from --from-literal/--from-file/--from-env-file:_default' \
&& ret=0
;;
(unseal)
_arguments "${_arguments_options[@]}" : \
'*-f+[SealedSecret file(s) to unseal; \`-\` is stdin]:FILE:_files' \
'*--file=[SealedSecret file(s) to unseal; \`-\` is stdin]:FILE:_files' \
'*--recovery-private-key=[Private keys\: PEM files, key Secrets (RSA or age; YAML/JSON) or a List of them, or age identity files. Repeatable, or comma-separated]:FILE:_files' \
'*--recovery-identity=[age identity file (\`age-keygen\` output, or age plugin identities). Its keys unseal age items sealed to them, and open the encrypted key backups given with --backup (or their shares). Repeatable]:FILE:_files' \
'*--backup=[An encrypted key backup (\`sealant keys backup\`), opened with --recovery-identity (or, for an m-of-n backup, with --share files), whose keys unseal directly. Repeatable]:FILE:_files' \
'*--share=[A share of an m-of-n --backup (\`sealant keys share-decrypt\` output, plain or age-encrypted to a --recovery-identity). Repeatable; docs/recovery.md]:FILE:_files' \
'-w+[Write to this file instead of stdout\: atomically, mode 0600, only on success. A \`.json\` name selects JSON and \`.yaml\`/\`.yml\` YAML unless -o says otherwise]:FILE:_files' \
'--output-file=[Write to this file instead of stdout\: atomically, mode 0600, only on success. A \`.json\` name selects JSON and \`.yaml\`/\`.yml\` YAML unless -o says otherwise]:FILE:_files' \
'--sealed-secret-file=[Write to this file instead of stdout\: atomically, mode 0600, only on success. A \`.json\` name selects JSON and \`.yaml\`/\`.yml\` YAML unless -o says otherwise]:FILE:_files' \
'-o+[Output format]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--output=[Output format]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--format=[Output format]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--accept-deprecated-v1-data[Accept the deprecated v1 \`spec.data\` format]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(cert)
_arguments "${_arguments_options[@]}" : \
'--cert=[Certificate to seal with\: a file, an http(s)\:// or file\:// URL. Without it, the certificate is fetched from the controller through the Kubernetes API]:PATH|URL:_default' \
'-w+[Save the PEM (or, with --age, the recipient) to this file instead of printing it]:FILE:_files' \
'--output-file=[Save the PEM (or, with --age, the recipient) to this file instead of printing it]:FILE:_files' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'--no-cert-cache[Never use or update the per-context certificate cache]' \
'--age[Print (or save) the controller'\''s age recipient instead of the certificate; an error if the controller publishes none (upstream controllers, or \`--age-keys=false\`)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(keys)
_arguments "${_arguments_options[@]}" : \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_sealant__subcmd__keys_commands" \
"*::: :->keys" \
&& ret=0

    case $state in
    (keys)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:sealant-keys-command-$line[1]:"
        case $line[1] in
            (backup)
_arguments "${_arguments_options[@]}" : \
'*--recipient=[Backup recipient (\`age1…\`, post-quantum \`age1pq1…\`, or an age plugin'\''s \`age1NAME1…\`). Repeatable. With --threshold, each one holds a share of its own]:AGE_RECIPIENT:_default' \
'*--recipients-file=[File of backup recipients, one per line. Repeatable. With --threshold, each line holds a share of its own]:FILE:_files' \
'(-o --output --armor)--threshold=[Write an m-of-n backup\: any M holders (each --recipient, recipients-file line and --group) restore it together, fewer learn nothing. docs/recovery.md]:M:_default' \
'*--group=[With --threshold\: one holder made of several recipients, any of whom opens its share\: \`\[LABEL=\]RECIPIENT\[,RECIPIENT…\]\` (LABEL names the share in the file). Repeatable]:[LABEL=]RECIPIENTS:_default' \
'*-f+[Back up key Secrets from these files (YAML/JSON, a List or a stream; \`-\` is stdin) instead of reading them from the cluster]:FILE:_files' \
'*--file=[Back up key Secrets from these files (YAML/JSON, a List or a stream; \`-\` is stdin) instead of reading them from the cluster]:FILE:_files' \
'--tenant=[Back up only this tenant'\''s keys (key Secrets labelled sealant.dev/tenant=TENANT). Default\: every key, the cluster'\''s and every tenant'\''s]:TENANT:_default' \
'-w+[Write the backup to this file (atomically, mode 0600) instead of stdout]:FILE:_files' \
'--output-file=[Write the backup to this file (atomically, mode 0600) instead of stdout]:FILE:_files' \
'-o+[Output format\: binary age, or ASCII-armored (\`-----BEGIN AGE ENCRYPTED FILE-----\`)]:FORMAT:((binary\:"Binary age"
armor\:"ASCII-armored age, safe to paste"))' \
'--output=[Output format\: binary age, or ASCII-armored (\`-----BEGIN AGE ENCRYPTED FILE-----\`)]:FORMAT:((binary\:"Binary age"
armor\:"ASCII-armored age, safe to paste"))' \
'--key-protection=[The provider\: pkcs11 or aws-kms]:PROVIDER:_default' \
'--pkcs11-module=[PKCS#11\: the vendor'\''s module (shared library)]:PATH:_files' \
'--pkcs11-token-label=[PKCS#11\: the token'\''s label]:LABEL:_default' \
'--pkcs11-pin-file=[PKCS#11\: a file holding the user PIN (else \$SEALANT_PKCS11_PIN)]:FILE:_files' \
'--pkcs11-kek-label=[PKCS#11\: the label of the AES-256 key-encryption key on the token]:LABEL:_default' \
'--aws-kms-region=[AWS KMS\: the region (credentials\: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)]:REGION:_default' \
'--aws-kms-key-id=[AWS KMS\: the key-encryption key (key id, ARN, alias name or alias ARN)]:KEY:_default' \
'--aws-kms-endpoint=[AWS KMS\: endpoint override (default https\://kms.REGION.amazonaws.com)]:URL:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'(-o --output)--armor[Same as \`-o armor\`]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(restore)
_arguments "${_arguments_options[@]}" : \
'-f+[The backup file (binary or armored); \`-\` is stdin]:FILE:_files' \
'--file=[The backup file (binary or armored); \`-\` is stdin]:FILE:_files' \
'*--identity=[age identity file that opens the backup, or its shares (age plugin identities too). Repeatable]:FILE:_files' \
'*--share=[A share of an m-of-n backup (\`sealant keys share-decrypt\` output, plain or age-encrypted to an --identity). Repeatable; docs/recovery.md]:FILE:_files' \
'-w+[Without --apply\: write the key Secrets to this file (mode 0600) instead of stdout]:FILE:_files' \
'--output-file=[Without --apply\: write the key Secrets to this file (mode 0600) instead of stdout]:FILE:_files' \
'-o+[Without --apply\: the key Secrets'\'' format (default\: yaml)]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--output=[Without --apply\: the key Secrets'\'' format (default\: yaml)]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'(-w --output-file -o --output)--apply[Create the key Secrets in --controller-namespace. Existing ones with the same content are left alone; one with other content is an error (nothing is overwritten)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(share-decrypt)
_arguments "${_arguments_options[@]}" : \
'-f+[The m-of-n backup file; \`-\` is stdin]:FILE:_files' \
'--file=[The m-of-n backup file; \`-\` is stdin]:FILE:_files' \
'*--identity=[Your age identity file (age plugin identities too). Repeatable]:FILE:_files' \
'*-r+[Encrypt the share to the person who restores (their age recipient) instead of writing it in clear. Repeatable]:AGE_RECIPIENT:_default' \
'*--recipient=[Encrypt the share to the person who restores (their age recipient) instead of writing it in clear. Repeatable]:AGE_RECIPIENT:_default' \
'--index=[Which share, when your identities open several (1-based, as in the backup)]:N:_default' \
'-w+[Write the share to this file (atomically, mode 0600) instead of stdout]:FILE:_files' \
'--output-file=[Write the share to this file (atomically, mode 0600) instead of stdout]:FILE:_files' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
'-o+[Output format]:FORMAT:((table\:"A table for people"
json\:"One JSON document for programs (schema in docs/rotation.md)"))' \
'--output=[Output format]:FORMAT:((table\:"A table for people"
json\:"One JSON document for programs (schema in docs/rotation.md)"))' \
'--tenant=[List this tenant'\''s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster'\''s]:TENANT:_default' \
'*--sealed-secrets-namespace=[Count only the SealedSecrets of these namespaces (repeatable or comma-separated)\: for a controller that watches only some (\`--all-namespaces=false\`, \`--additional-namespaces\`), when other controllers'\'' SealedSecrets share the cluster. Default\: every namespace]:NAMESPACE:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'(--tenant)--all-tenants[List every key, the cluster'\''s and every tenant'\''s, with a TENANT column]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(rotate)
_arguments "${_arguments_options[@]}" : \
'--wait=[How long to wait for the new key (\`30s\`, \`2m\`); \`0\` asks without waiting]:DURATION:_default' \
'--tenant=[Act on this tenant'\''s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster'\''s]:TENANT:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(retire)
_arguments "${_arguments_options[@]}" : \
'--tenant=[Act on this tenant'\''s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster'\''s]:TENANT:_default' \
'*--sealed-secrets-namespace=[Count only the SealedSecrets of these namespaces (repeatable or comma-separated)\: for a controller that watches only some (\`--all-namespaces=false\`, \`--additional-namespaces\`), when other controllers'\'' SealedSecrets share the cluster. Default\: every namespace]:NAMESPACE:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'--force[Retire it even though SealedSecrets still need it, have no inventory yet, or it is the sealing key. SealedSecrets that need it can no longer be unsealed]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':fingerprint -- The key'\''s fingerprint (or a prefix of it):_default' \
&& ret=0
;;
(compromise)
_arguments "${_arguments_options[@]}" : \
'--tenant=[Act on this tenant'\''s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster'\''s]:TENANT:_default' \
'*--sealed-secrets-namespace=[Count only the SealedSecrets of these namespaces (repeatable or comma-separated)\: for a controller that watches only some (\`--all-namespaces=false\`, \`--additional-namespaces\`), when other controllers'\'' SealedSecrets share the cluster. Default\: every namespace]:NAMESPACE:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':fingerprint -- The key'\''s fingerprint (or a prefix of it):_default' \
&& ret=0
;;
(reactivate)
_arguments "${_arguments_options[@]}" : \
'--tenant=[Act on this tenant'\''s keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the cluster'\''s]:TENANT:_default' \
'*--sealed-secrets-namespace=[Count only the SealedSecrets of these namespaces (repeatable or comma-separated)\: for a controller that watches only some (\`--all-namespaces=false\`, \`--additional-namespaces\`), when other controllers'\'' SealedSecrets share the cluster. Default\: every namespace]:NAMESPACE:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'--force[Reactivate a compromised key even though it becomes the key the controller seals with\: whoever holds a copy of it could open what is sealed from then on]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':fingerprint -- The key'\''s fingerprint (or a prefix of it):_default' \
&& ret=0
;;
(protect)
_arguments "${_arguments_options[@]}" : \
'--backup=[A \`sealant keys backup\` file; it must hold every RSA key now in the namespace]:FILE:_files' \
'*--identity=[age identity file that opens --backup (to check what it holds). Repeatable]:FILE:_files' \
'--key-protection=[The provider\: pkcs11 or aws-kms]:PROVIDER:_default' \
'--pkcs11-module=[PKCS#11\: the vendor'\''s module (shared library)]:PATH:_files' \
'--pkcs11-token-label=[PKCS#11\: the token'\''s label]:LABEL:_default' \
'--pkcs11-pin-file=[PKCS#11\: a file holding the user PIN (else \$SEALANT_PKCS11_PIN)]:FILE:_files' \
'--pkcs11-kek-label=[PKCS#11\: the label of the AES-256 key-encryption key on the token]:LABEL:_default' \
'--aws-kms-region=[AWS KMS\: the region (credentials\: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)]:REGION:_default' \
'--aws-kms-key-id=[AWS KMS\: the key-encryption key (key id, ARN, alias name or alias ARN)]:KEY:_default' \
'--aws-kms-endpoint=[AWS KMS\: endpoint override (default https\://kms.REGION.amazonaws.com)]:URL:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'(--backup)--i-have-a-backup[Skip the backup check\: a copy of every key is kept somewhere else]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(unprotect)
_arguments "${_arguments_options[@]}" : \
'--key-protection=[The provider\: pkcs11 or aws-kms]:PROVIDER:_default' \
'--pkcs11-module=[PKCS#11\: the vendor'\''s module (shared library)]:PATH:_files' \
'--pkcs11-token-label=[PKCS#11\: the token'\''s label]:LABEL:_default' \
'--pkcs11-pin-file=[PKCS#11\: a file holding the user PIN (else \$SEALANT_PKCS11_PIN)]:FILE:_files' \
'--pkcs11-kek-label=[PKCS#11\: the label of the AES-256 key-encryption key on the token]:LABEL:_default' \
'--aws-kms-region=[AWS KMS\: the region (credentials\: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)]:REGION:_default' \
'--aws-kms-key-id=[AWS KMS\: the key-encryption key (key id, ARN, alias name or alias ARN)]:KEY:_default' \
'--aws-kms-endpoint=[AWS KMS\: endpoint override (default https\://kms.REGION.amazonaws.com)]:URL:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_sealant__subcmd__keys__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:sealant-keys-help-command-$line[1]:"
        case $line[1] in
            (backup)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(restore)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(share-decrypt)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rotate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(retire)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(compromise)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(reactivate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(protect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(unprotect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
;;
(validate)
_arguments "${_arguments_options[@]}" : \
'*-f+[SealedSecret file(s); \`-\` is stdin]:FILE:_files' \
'*--file=[SealedSecret file(s); \`-\` is stdin]:FILE:_files' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(reencrypt)
_arguments "${_arguments_options[@]}" : \
'*-f+[SealedSecret file(s) to re-encrypt to stdout (or -w); \`-\` is stdin]:FILE:_files' \
'*--file=[SealedSecret file(s) to re-encrypt to stdout (or -w); \`-\` is stdin]:FILE:_files' \
'*--private-key=[Offline\: the old private keys (PEM files, key Secrets in YAML/JSON or a List of them). Repeatable, or comma-separated. Needs --cert]:FILE:_files' \
'--cert=[Offline\: the newest certificate (a file, an http(s)\:// or file\:// URL) to re-encrypt to]:PATH|URL:_default' \
'-w+[Write to this file instead of stdout\: atomically, mode 0600, only on success. A \`.json\` name selects JSON and \`.yaml\`/\`.yml\` YAML unless -o says otherwise]:FILE:_files' \
'--output-file=[Write to this file instead of stdout\: atomically, mode 0600, only on success. A \`.json\` name selects JSON and \`.yaml\`/\`.yml\` YAML unless -o says otherwise]:FILE:_files' \
'--sealed-secret-file=[Write to this file instead of stdout\: atomically, mode 0600, only on success. A \`.json\` name selects JSON and \`.yaml\`/\`.yml\` YAML unless -o says otherwise]:FILE:_files' \
'-o+[Output format]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--output=[Output format]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--format=[Output format]:FORMAT:((yaml\:"YAML documents, each starting with \`---\`"
json\:"Pretty-printed JSON objects"))' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'(--check)--dry-run[Report what would be re-encrypted (and that it can be), write nothing]' \
'--check[Exit 1 if any SealedSecret is sealed to a key other than the newest; write nothing]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
'*::paths -- Files and directories whose SealedSecrets are re-encrypted in place:_files' \
&& ret=0
;;
(lint)
_arguments "${_arguments_options[@]}" : \
'*--exclude=[Skip paths matching this glob (\`*\`, \`?\`, \`**\`), matched against the path and each of its trailing parts (\`fixtures/**\`, \`*.example.yaml\`). Repeatable]:GLOB:_default' \
'*--cert=[The controller'\''s certificates, current and past (PEM files; repeatable). A key hint naming none of them is an error, one naming an expired one a warning]:FILE:_files' \
'-o+[Report format]:FORMAT:((text\:"Lines for people"
json\:"One JSON document for programs (schema in docs/workflow.md)"
yaml\:"The JSON document as YAML"))' \
'--output=[Report format]:FORMAT:((text\:"Lines for people"
json\:"One JSON document for programs (schema in docs/workflow.md)"
yaml\:"The JSON document as YAML"))' \
'--deny-warnings[Exit 1 on warnings too]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
'*::paths -- Files and directories to check (`-` is stdin, e.g. a kustomize build). Directories are walked for *.yaml, *.yml, *.json and Kustomization files, skipping hidden entries. Default\: the current directory:_files' \
&& ret=0
;;
(inspect)
_arguments "${_arguments_options[@]}" : \
'*--cert=[Certificates to match the key hint against (PEM files; repeatable)]:FILE:_files' \
'-o+[Report format]:FORMAT:((text\:"Lines for people"
json\:"One JSON document for programs (schema in docs/workflow.md)"
yaml\:"The JSON document as YAML"))' \
'--output=[Report format]:FORMAT:((text\:"Lines for people"
json\:"One JSON document for programs (schema in docs/workflow.md)"
yaml\:"The JSON document as YAML"))' \
'(-o --output --cert)--textconv[Print a stable text for \`git diff\` (a git textconv filter)\: each SealedSecret as YAML with every item replaced by its format, size and digest; anything else as it is]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
'*::files -- SealedSecret files (YAML or JSON, several documents allowed; other kinds are skipped); `-` or none is stdin:_files' \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
'--git=[Compare working-tree files with their version at this git revision]:REV:_default' \
'*--recovery-private-key=[Private keys to compare values with, offline\: PEM files, key Secrets or a List. Repeatable or comma-separated]:FILE:_files' \
'*--cert=[Certificates to match key hints against (PEM files; repeatable)]:FILE:_files' \
'-o+[Report format]:FORMAT:((text\:"Lines for people"
json\:"One JSON document for programs (schema in docs/workflow.md)"
yaml\:"The JSON document as YAML"))' \
'--output=[Report format]:FORMAT:((text\:"Lines for people"
json\:"One JSON document for programs (schema in docs/workflow.md)"
yaml\:"The JSON document as YAML"))' \
'--show-values[Print changed values in clear text (needs --recovery-private-key). Not for CI logs]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
'*::files -- OLD and NEW files. With --git\: working-tree files to compare with REV (default\: every file changed since REV that holds a SealedSecret on either side):_files' \
&& ret=0
;;
(kustomize)
_arguments "${_arguments_options[@]}" : \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
'::config -- A SealedSecretGenerator config file (exec plugin protocol\: the SealedSecret is printed). Without it, a KRM ResourceList is read from stdin and written to stdout with the generated SealedSecret added (KRM function protocol):_files' \
&& ret=0
;;
(web)
_arguments "${_arguments_options[@]}" : \
'--cert=[Certificate to seal with\: a file, an http(s)\:// or file\:// URL. Without it, the certificate is fetched from the controller through the Kubernetes API]:PATH|URL:_default' \
'--port=[Port on 127.0.0.1 to serve the page on (default\: a free one, printed)]:PORT:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use]:NAME:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'--no-cert-cache[Never use or update the per-context certificate cache]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'--kubeseal[Complete kubeseal'\''s flags for the name \`kubeseal\` (a link to sealant)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':shell -- The shell:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'--out-dir=[Write \`sealant.1\` and one page per subcommand (\`sealant-seal.1\`, …) here]:DIR:_files' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(kubeseal)
_arguments "${_arguments_options[@]}" : \
'-V[Print version]' \
'--version[Print version]' \
'*::args -- kubeseal'\''s arguments:_default' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_sealant__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:sealant-help-command-$line[1]:"
        case $line[1] in
            (seal)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(unseal)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(cert)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(keys)
_arguments "${_arguments_options[@]}" : \
":: :_sealant__subcmd__help__subcmd__keys_commands" \
"*::: :->keys" \
&& ret=0

    case $state in
    (keys)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:sealant-help-keys-command-$line[1]:"
        case $line[1] in
            (backup)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(restore)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(share-decrypt)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(list)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rotate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(retire)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(compromise)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(reactivate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(protect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(unprotect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
(validate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(reencrypt)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(lint)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(inspect)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(diff)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(kustomize)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(web)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(kubeseal)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_sealant_commands] )) ||
_sealant_commands() {
    local commands; commands=(
'seal:Seal Secrets (from files, stdin, or built from literals) into SealedSecrets' \
'unseal:Recover Secrets from SealedSecrets offline, with the controller'\''s private keys' \
'cert:Print or save the controller'\''s certificate (and age recipient), with fingerprint, key size and expiry' \
'keys:The controller'\''s keys\: list, rotate, retire, mark compromised, back up, restore' \
'validate:Ask the controller whether SealedSecrets can be unsealed' \
'reencrypt:Re-encrypt SealedSecrets to the controller'\''s newest key' \
'lint:Find plain Secrets and broken SealedSecrets in files and directories (pre-commit, CI)' \
'inspect:Show what a SealedSecret holds, without any key\: scope, items, sizes, key sizes, key hint' \
'diff:Compare SealedSecrets\: items added, removed or re-sealed, scope and metadata changes' \
'kustomize:Generate SealedSecrets during a kustomize build (exec plugin or KRM function)' \
'web:Serve a page on 127.0.0.1 to seal in a browser; the values never leave the browser' \
'completions:Print a shell completion script (with --kubeseal\: for a \`kubeseal\` link)' \
'man:Print the man page (roff), or write every page to a directory' \
'kubeseal:Run with upstream kubeseal'\''s flags and behaviour (also chosen when invoked as \`kubeseal\`)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'sealant commands' commands "$@"
}
(( $+functions[_sealant__subcmd__cert_commands] )) ||
_sealant__subcmd__cert_commands() {
    local commands; commands=()
    _describe -t commands 'sealant cert commands' commands "$@"
}
(( $+functions[_sealant__subcmd__completions_commands] )) ||
_sealant__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'sealant completions commands' commands "$@"
}
(( $+functions[_sealant__subcmd__diff_commands] )) ||
_sealant__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'sealant diff commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help_commands] )) ||
_sealant__subcmd__help_commands() {
    local commands; commands=(
'seal:Seal Secrets (from files, stdin, or built from literals) into SealedSecrets' \
'unseal:Recover Secrets from SealedSecrets offline, with the controller'\''s private keys' \
'cert:Print or save the controller'\''s certificate (and age recipient), with fingerprint, key size and expiry' \
'keys:The controller'\''s keys\: list, rotate, retire, mark compromised, back up, restore' \
'validate:Ask the controller whether SealedSecrets can be unsealed' \
'reencrypt:Re-encrypt SealedSecrets to the controller'\''s newest key' \
'lint:Find plain Secrets and broken SealedSecrets in files and directories (pre-commit, CI)' \
'inspect:Show what a SealedSecret holds, without any key\: scope, items, sizes, key sizes, key hint' \
'diff:Compare SealedSecrets\: items added, removed or re-sealed, scope and metadata changes' \
'kustomize:Generate SealedSecrets during a kustomize build (exec plugin or KRM function)' \
'web:Serve a page on 127.0.0.1 to seal in a browser; the values never leave the browser' \
'completions:Print a shell completion script (with --kubeseal\: for a \`kubeseal\` link)' \
'man:Print the man page (roff), or write every page to a directory' \
'kubeseal:Run with upstream kubeseal'\''s flags and behaviour (also chosen when invoked as \`kubeseal\`)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'sealant help commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__cert_commands] )) ||
_sealant__subcmd__help__subcmd__cert_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help cert commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__completions_commands] )) ||
_sealant__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help completions commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__diff_commands] )) ||
_sealant__subcmd__help__subcmd__diff_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help diff commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__help_commands] )) ||
_sealant__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help help commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__inspect_commands] )) ||
_sealant__subcmd__help__subcmd__inspect_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help inspect commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys_commands] )) ||
_sealant__subcmd__help__subcmd__keys_commands() {
    local commands; commands=(
'backup:Write every key of a controller (RSA and age key Secrets) as one age file encrypted to offline age recipients. \`age -d -i IDENTITY FILE\` decrypts it without sealant' \
'restore:Decrypt a key backup and create its key Secrets in the controller namespace (--apply), or print them as YAML' \
'share-decrypt:Open your share of an m-of-n key backup with your identity, and write it for the person who restores (plain, or encrypted to their age recipient)' \
'list:List the controller'\''s keys (RSA and age, every state) and how many SealedSecrets in the cluster still need each one' \
'rotate:Ask the controller for a new sealing key now, and wait for it' \
'retire:Take a key out of service\: it no longer seals nor unseals. Refused while anything in the cluster may still need it, unless --force' \
'compromise:Mark a key as exposed\: it never seals again, but still unseals until everything sealed to it is re-encrypted; objects that need it get a KeyCompromised condition' \
'reactivate:Put a retired or compromised key back into service (active). A compromised key that would become the sealing key needs --force' \
'protect:Wrap the controller'\''s RSA keys in place under a key-encryption key in an HSM (PKCS#11) or AWS KMS\: the key Secrets then hold no plaintext private key. Needs a backup first' \
'unprotect:Turn protected keys back into upstream'\''s plaintext key Secrets (to switch key protection off, or back to upstream)' \
    )
    _describe -t commands 'sealant help keys commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__backup_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__backup_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys backup commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__compromise_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__compromise_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys compromise commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__list_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys list commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__protect_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__protect_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys protect commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__reactivate_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__reactivate_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys reactivate commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__restore_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__restore_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys restore commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__retire_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__retire_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys retire commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__rotate_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__rotate_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys rotate commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__share-decrypt_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__share-decrypt_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys share-decrypt commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__keys__subcmd__unprotect_commands] )) ||
_sealant__subcmd__help__subcmd__keys__subcmd__unprotect_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help keys unprotect commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__kubeseal_commands] )) ||
_sealant__subcmd__help__subcmd__kubeseal_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help kubeseal commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__kustomize_commands] )) ||
_sealant__subcmd__help__subcmd__kustomize_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help kustomize commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__lint_commands] )) ||
_sealant__subcmd__help__subcmd__lint_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help lint commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__man_commands] )) ||
_sealant__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help man commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__reencrypt_commands] )) ||
_sealant__subcmd__help__subcmd__reencrypt_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help reencrypt commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__seal_commands] )) ||
_sealant__subcmd__help__subcmd__seal_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help seal commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__unseal_commands] )) ||
_sealant__subcmd__help__subcmd__unseal_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help unseal commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__validate_commands] )) ||
_sealant__subcmd__help__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help validate commands' commands "$@"
}
(( $+functions[_sealant__subcmd__help__subcmd__web_commands] )) ||
_sealant__subcmd__help__subcmd__web_commands() {
    local commands; commands=()
    _describe -t commands 'sealant help web commands' commands "$@"
}
(( $+functions[_sealant__subcmd__inspect_commands] )) ||
_sealant__subcmd__inspect_commands() {
    local commands; commands=()
    _describe -t commands 'sealant inspect commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys_commands] )) ||
_sealant__subcmd__keys_commands() {
    local commands; commands=(
'backup:Write every key of a controller (RSA and age key Secrets) as one age file encrypted to offline age recipients. \`age -d -i IDENTITY FILE\` decrypts it without sealant' \
'restore:Decrypt a key backup and create its key Secrets in the controller namespace (--apply), or print them as YAML' \
'share-decrypt:Open your share of an m-of-n key backup with your identity, and write it for the person who restores (plain, or encrypted to their age recipient)' \
'list:List the controller'\''s keys (RSA and age, every state) and how many SealedSecrets in the cluster still need each one' \
'rotate:Ask the controller for a new sealing key now, and wait for it' \
'retire:Take a key out of service\: it no longer seals nor unseals. Refused while anything in the cluster may still need it, unless --force' \
'compromise:Mark a key as exposed\: it never seals again, but still unseals until everything sealed to it is re-encrypted; objects that need it get a KeyCompromised condition' \
'reactivate:Put a retired or compromised key back into service (active). A compromised key that would become the sealing key needs --force' \
'protect:Wrap the controller'\''s RSA keys in place under a key-encryption key in an HSM (PKCS#11) or AWS KMS\: the key Secrets then hold no plaintext private key. Needs a backup first' \
'unprotect:Turn protected keys back into upstream'\''s plaintext key Secrets (to switch key protection off, or back to upstream)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'sealant keys commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__backup_commands] )) ||
_sealant__subcmd__keys__subcmd__backup_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys backup commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__compromise_commands] )) ||
_sealant__subcmd__keys__subcmd__compromise_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys compromise commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help_commands] )) ||
_sealant__subcmd__keys__subcmd__help_commands() {
    local commands; commands=(
'backup:Write every key of a controller (RSA and age key Secrets) as one age file encrypted to offline age recipients. \`age -d -i IDENTITY FILE\` decrypts it without sealant' \
'restore:Decrypt a key backup and create its key Secrets in the controller namespace (--apply), or print them as YAML' \
'share-decrypt:Open your share of an m-of-n key backup with your identity, and write it for the person who restores (plain, or encrypted to their age recipient)' \
'list:List the controller'\''s keys (RSA and age, every state) and how many SealedSecrets in the cluster still need each one' \
'rotate:Ask the controller for a new sealing key now, and wait for it' \
'retire:Take a key out of service\: it no longer seals nor unseals. Refused while anything in the cluster may still need it, unless --force' \
'compromise:Mark a key as exposed\: it never seals again, but still unseals until everything sealed to it is re-encrypted; objects that need it get a KeyCompromised condition' \
'reactivate:Put a retired or compromised key back into service (active). A compromised key that would become the sealing key needs --force' \
'protect:Wrap the controller'\''s RSA keys in place under a key-encryption key in an HSM (PKCS#11) or AWS KMS\: the key Secrets then hold no plaintext private key. Needs a backup first' \
'unprotect:Turn protected keys back into upstream'\''s plaintext key Secrets (to switch key protection off, or back to upstream)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'sealant keys help commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__backup_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__backup_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help backup commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__compromise_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__compromise_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help compromise commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__help_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help help commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__list_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help list commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__protect_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__protect_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help protect commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__reactivate_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__reactivate_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help reactivate commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__restore_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__restore_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help restore commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__retire_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__retire_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help retire commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__rotate_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__rotate_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help rotate commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__share-decrypt_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__share-decrypt_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help share-decrypt commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__help__subcmd__unprotect_commands] )) ||
_sealant__subcmd__keys__subcmd__help__subcmd__unprotect_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys help unprotect commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__list_commands] )) ||
_sealant__subcmd__keys__subcmd__list_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys list commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__protect_commands] )) ||
_sealant__subcmd__keys__subcmd__protect_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys protect commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__reactivate_commands] )) ||
_sealant__subcmd__keys__subcmd__reactivate_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys reactivate commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__restore_commands] )) ||
_sealant__subcmd__keys__subcmd__restore_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys restore commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__retire_commands] )) ||
_sealant__subcmd__keys__subcmd__retire_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys retire commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__rotate_commands] )) ||
_sealant__subcmd__keys__subcmd__rotate_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys rotate commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__share-decrypt_commands] )) ||
_sealant__subcmd__keys__subcmd__share-decrypt_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys share-decrypt commands' commands "$@"
}
(( $+functions[_sealant__subcmd__keys__subcmd__unprotect_commands] )) ||
_sealant__subcmd__keys__subcmd__unprotect_commands() {
    local commands; commands=()
    _describe -t commands 'sealant keys unprotect commands' commands "$@"
}
(( $+functions[_sealant__subcmd__kubeseal_commands] )) ||
_sealant__subcmd__kubeseal_commands() {
    local commands; commands=()
    _describe -t commands 'sealant kubeseal commands' commands "$@"
}
(( $+functions[_sealant__subcmd__kustomize_commands] )) ||
_sealant__subcmd__kustomize_commands() {
    local commands; commands=()
    _describe -t commands 'sealant kustomize commands' commands "$@"
}
(( $+functions[_sealant__subcmd__lint_commands] )) ||
_sealant__subcmd__lint_commands() {
    local commands; commands=()
    _describe -t commands 'sealant lint commands' commands "$@"
}
(( $+functions[_sealant__subcmd__man_commands] )) ||
_sealant__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'sealant man commands' commands "$@"
}
(( $+functions[_sealant__subcmd__reencrypt_commands] )) ||
_sealant__subcmd__reencrypt_commands() {
    local commands; commands=()
    _describe -t commands 'sealant reencrypt commands' commands "$@"
}
(( $+functions[_sealant__subcmd__seal_commands] )) ||
_sealant__subcmd__seal_commands() {
    local commands; commands=()
    _describe -t commands 'sealant seal commands' commands "$@"
}
(( $+functions[_sealant__subcmd__unseal_commands] )) ||
_sealant__subcmd__unseal_commands() {
    local commands; commands=()
    _describe -t commands 'sealant unseal commands' commands "$@"
}
(( $+functions[_sealant__subcmd__validate_commands] )) ||
_sealant__subcmd__validate_commands() {
    local commands; commands=()
    _describe -t commands 'sealant validate commands' commands "$@"
}
(( $+functions[_sealant__subcmd__web_commands] )) ||
_sealant__subcmd__web_commands() {
    local commands; commands=()
    _describe -t commands 'sealant web commands' commands "$@"
}

if [ "$funcstack[1]" = "_sealant" ]; then
    _sealant "$@"
else
    compdef _sealant sealant
fi
