#compdef kubeseal

autoload -U is-at-least

_kubeseal() {
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
'--allow-empty-data=[Seal a Secret that has no data instead of refusing it]::BOOL:_default' \
'--cert=[Seal with this certificate\: a file, or an http(s)\:// or file\:// URL (the controller is then not asked)]:PATH|URL:_default' \
'--controller-name=[Name of the controller'\''s Service]:NAME:_default' \
'--controller-namespace=[Namespace of the controller'\''s Service]:NAMESPACE:_default' \
'--fetch-cert=[Print the controller'\''s certificate (or save it with -w) and stop; seal offline later with --cert]::BOOL:_default' \
'-o+[How to write objects\: json (default) or yaml, in any case]:FORMAT:_default' \
'--format=[How to write objects\: json (default) or yaml, in any case]:FORMAT:_default' \
'*--from-file=[With --raw\: the file holding the value (a KEY= prefix is ignored); at most one]:[KEY=]PATH:_default' \
'--kubeconfig=[kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config, then in-cluster)]:PATH:_default' \
'--merge-into=[Seal the input and add its items to this SealedSecret file, rewriting it in place]:FILE:_default' \
'--name=[With --raw\: the Secret name the value is bound to; otherwise replaces the input'\''s name]:NAME:_default' \
'--raw=[Seal one value (stdin or --from-file) and print only its base64]::BOOL:_default' \
'--re-encrypt=[Have the controller re-encrypt the input SealedSecrets to its newest key (-f FILE without -w is rewritten in place)]::BOOL:_default' \
'*--recovery-private-key=[Keys for --recovery-unseal\: PEM RSA keys, key Secret backups (YAML/JSON) or Lists of them; repeat or comma-separate]:FILE:_default' \
'--recovery-unseal=[Decrypt SealedSecrets offline with the --recovery-private-key keys (disaster recovery)]::BOOL:_default' \
'--rotate=[Old name of --re-encrypt (deprecated)]::BOOL:_default' \
'-w+[Write the output to this file (atomically, only on success); a .yaml/.yml name means YAML]:FILE:_default' \
'--sealed-secret-file=[Write the output to this file (atomically, only on success); a .yaml/.yml name means YAML]:FILE:_default' \
'-f+[Read the input from this file instead of stdin]:FILE:_default' \
'--secret-file=[Read the input from this file instead of stdin]:FILE:_default' \
'--validate=[Ask the controller whether it can decrypt the input SealedSecrets]::BOOL:_default' \
'--version=[Print the version and exit]::BOOL:_default' \
'--scope=[strict, namespace-wide or cluster-wide; without it the input'\''s scope annotations decide (else strict)]:SCOPE:(strict namespace-wide cluster-wide)' \
'--as=[Act as this user (impersonation)]:USER:_default' \
'*--as-group=[Act as a member of this group (repeatable)]:GROUP:_default' \
'--as-uid=[Act as the user with this UID]:UID:_default' \
'--certificate-authority=[CA certificate file to check the API server'\''s certificate with]:PATH:_default' \
'--client-certificate=[Client certificate file for TLS authentication]:PATH:_default' \
'--client-key=[Key file of --client-certificate]:PATH:_default' \
'--cluster=[kubeconfig cluster entry to use instead of the context'\''s]:NAME:_default' \
'--context=[kubeconfig context to use instead of the current one]:NAME:_default' \
'--disable-compression=[Ask for uncompressed API responses (sealant never asks for compressed ones)]::BOOL:_default' \
'--insecure-skip-tls-verify=[Do not verify the API server'\''s certificate (insecure)]::BOOL:_default' \
'-n+[Namespace for Secrets that name none (default\: the context'\''s, else default); must match the input'\''s]:NAMESPACE:_default' \
'--namespace=[Namespace for Secrets that name none (default\: the context'\''s, else default); must match the input'\''s]:NAMESPACE:_default' \
'--password=[Password for basic authentication]:PASSWORD:_default' \
'--proxy-url=[Proxy to reach the API server through (not supported\: refused when the cluster is contacted)]:URL:_default' \
'--request-timeout=[Give up on each API request after this long\: 30s, 2m, 1h or a number of seconds; 0 waits forever]:DURATION:_default' \
'--server=[API server URL (works without a kubeconfig)]:URL:_default' \
'--tls-server-name=[Name to expect in the API server'\''s certificate]:NAME:_default' \
'--token=[Bearer token for the API server]:TOKEN:_default' \
'--user=[kubeconfig user entry to use instead of the context'\''s]:NAME:_default' \
'--username=[User name for basic authentication]:NAME:_default' \
'--add_dir_header=[]::BOOL:_default' \
'--alsologtostderr=[]::BOOL:_default' \
'--log_backtrace_at=[]::_default' \
'--log_dir=[]::_default' \
'--log_file=[]::_default' \
'--log_file_max_size=[]::_default' \
'--log_flush_frequency=[]::_default' \
'--logtostderr=[]::BOOL:_default' \
'--one_output=[]::BOOL:_default' \
'--skip_headers=[]::BOOL:_default' \
'--skip_log_headers=[]::BOOL:_default' \
'--stderrthreshold=[]::_default' \
'-v+[]::_default' \
'--v=[]::_default' \
'--vmodule=[]::_default' \
'-h[Print help]' \
'--help[Print help]' \
'*::ignored-arguments:_default' \
&& ret=0
}

(( $+functions[_kubeseal_commands] )) ||
_kubeseal_commands() {
    local commands; commands=()
    _describe -t commands 'kubeseal commands' commands "$@"
}

if [ "$funcstack[1]" = "_kubeseal" ]; then
    _kubeseal "$@"
else
    compdef _kubeseal kubeseal
fi
