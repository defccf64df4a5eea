complete -c kubeseal -l allow-empty-data -d 'Seal a Secret that has no data instead of refusing it' -r
complete -c kubeseal -l cert -d 'Seal with this certificate: a file, or an http(s):// or file:// URL (the controller is then not asked)' -r
complete -c kubeseal -l controller-name -d 'Name of the controller\'s Service' -r
complete -c kubeseal -l controller-namespace -d 'Namespace of the controller\'s Service' -r
complete -c kubeseal -l fetch-cert -d 'Print the controller\'s certificate (or save it with -w) and stop; seal offline later with --cert' -r
complete -c kubeseal -s o -l format -d 'How to write objects: json (default) or yaml, in any case' -r
complete -c kubeseal -l from-file -d 'With --raw: the file holding the value (a KEY= prefix is ignored); at most one' -r
complete -c kubeseal -l kubeconfig -d 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)' -r
complete -c kubeseal -l merge-into -d 'Seal the input and add its items to this SealedSecret file, rewriting it in place' -r
complete -c kubeseal -l name -d 'With --raw: the Secret name the value is bound to; otherwise replaces the input\'s name' -r
complete -c kubeseal -l raw -d 'Seal one value (stdin or --from-file) and print only its base64' -r
complete -c kubeseal -l re-encrypt -d 'Have the controller re-encrypt the input SealedSecrets to its newest key (-f FILE without -w is rewritten in place)' -r
complete -c kubeseal -l recovery-private-key -d 'Keys for --recovery-unseal: PEM RSA keys, key Secret backups (YAML/JSON) or Lists of them; repeat or comma-separate' -r
complete -c kubeseal -l recovery-unseal -d 'Decrypt SealedSecrets offline with the --recovery-private-key keys (disaster recovery)' -r
complete -c kubeseal -l rotate -d 'Old name of --re-encrypt (deprecated)' -r
complete -c kubeseal -s w -l sealed-secret-file -d 'Write the output to this file (atomically, only on success); a .yaml/.yml name means YAML' -r
complete -c kubeseal -s f -l secret-file -d 'Read the input from this file instead of stdin' -r
complete -c kubeseal -l validate -d 'Ask the controller whether it can decrypt the input SealedSecrets' -r
complete -c kubeseal -l version -d 'Print the version and exit' -r
complete -c kubeseal -l scope -d 'strict, namespace-wide or cluster-wide; without it the input\'s scope annotations decide (else strict)' -r -f -a "strict\t''
namespace-wide\t''
cluster-wide\t''"
complete -c kubeseal -l as -d 'Act as this user (impersonation)' -r
complete -c kubeseal -l as-group -d 'Act as a member of this group (repeatable)' -r
complete -c kubeseal -l as-uid -d 'Act as the user with this UID' -r
complete -c kubeseal -l certificate-authority -d 'CA certificate file to check the API server\'s certificate with' -r
complete -c kubeseal -l client-certificate -d 'Client certificate file for TLS authentication' -r
complete -c kubeseal -l client-key -d 'Key file of --client-certificate' -r
complete -c kubeseal -l cluster -d 'kubeconfig cluster entry to use instead of the context\'s' -r
complete -c kubeseal -l context -d 'kubeconfig context to use instead of the current one' -r
complete -c kubeseal -l disable-compression -d 'Ask for uncompressed API responses (sealant never asks for compressed ones)' -r
complete -c kubeseal -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)' -r
complete -c kubeseal -s n -l namespace -d 'Namespace for Secrets that name none (default: the context\'s, else default); must match the input\'s' -r
complete -c kubeseal -l password -d 'Password for basic authentication' -r
complete -c kubeseal -l proxy-url -d 'Proxy to reach the API server through (not supported: refused when the cluster is contacted)' -r
complete -c kubeseal -l request-timeout -d 'Give up on each API request after this long: 30s, 2m, 1h or a number of seconds; 0 waits forever' -r
complete -c kubeseal -l server -d 'API server URL (works without a kubeconfig)' -r
complete -c kubeseal -l tls-server-name -d 'Name to expect in the API server\'s certificate' -r
complete -c kubeseal -l token -d 'Bearer token for the API server' -r
complete -c kubeseal -l user -d 'kubeconfig user entry to use instead of the context\'s' -r
complete -c kubeseal -l username -d 'User name for basic authentication' -r
complete -c kubeseal -l add_dir_header -d '' -r
complete -c kubeseal -l alsologtostderr -d '' -r
complete -c kubeseal -l log_backtrace_at -d '' -r
complete -c kubeseal -l log_dir -d '' -r
complete -c kubeseal -l log_file -d '' -r
complete -c kubeseal -l log_file_max_size -d '' -r
complete -c kubeseal -l log_flush_frequency -d '' -r
complete -c kubeseal -l logtostderr -d '' -r
complete -c kubeseal -l one_output -d '' -r
complete -c kubeseal -l skip_headers -d '' -r
complete -c kubeseal -l skip_log_headers -d '' -r
complete -c kubeseal -l stderrthreshold -d '' -r
complete -c kubeseal -s v -l v -d '' -r
complete -c kubeseal -l vmodule -d '' -r
complete -c kubeseal -s h -l help -d 'Print help'
