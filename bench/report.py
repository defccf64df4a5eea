"""Markdown from the benchmark scripts' JSON: one section, or the whole docs/benchmarks.md.

    python3 bench/report.py section controller FILE.json   # one section, on stdout
    python3 bench/report.py full DIR [REPORT]              # the report from DIR/*.json

bench/run.sh writes DIR: machine.json, crypto.json, cli.json, reencrypt.json, controller.json.
Nothing measured is hard-coded: every figure and every met / not met comes from those files.
The constants are the targets and the figures other projects' users published (PUBLISHED, each
with its source). With REPORT (the path the report will be written to), the pictures
(bench/figures.py) are drawn next to it as <REPORT stem>-sync.svg and -rss.svg and embedded.
"""

import json
import pathlib
import sys

import figures

# The targets (docs/benchmarks.md, "Targets"): the limits, not results.
UNSEAL_OVERHEAD_MAX = 1.1
SYNC_5000_MAX_S = 60.0
RESTART_5000_MAX_S = 15.0
RSS_5000_MAX_MIB = 30.0
RSS_IDLE_MAX_MIB = 12.0
CLI_SEAL_MAX_MS = 5.0
TARGET_N = 5000
LARGE_N = 50000
RSS_LARGE_MAX_MIB = 120.0
NEWCOMER_MAX_S = 2.0
# Controller CPU per new SealedSecret (backlog sync at TARGET_N) against its RSA floor: ITEMS_PER_OBJECT
# raw RSA-4096 OAEP decryptions, measured by the crypto section of the same run.
CPU_FLOOR_MAX = 1.25
ITEMS_PER_OBJECT = 3
FLOOR_KEY = "rsa4096/unseal_ring1"
# Other processes using more than this many cores before a section: the machine was busy.
BUSY_CORES = 0.3
# age items: opening costs at most this many times the raw primitives it contains.
AGE_OPEN_OVERHEAD_MAX = 1.5

# Scale figures other projects' users published, on their own clusters and hardware: quoted for
# scale, not measured here. (project, objects, all synced, a new object waits, memory, source)
PUBLISHED = [
    ("Sealed Secrets (upstream controller)", "~4,000 SealedSecrets", "20–30 min", "5–15 min", "—",
     "bitnami-labs/sealed-secrets#1833"),
    ("Sealed Secrets (upstream controller)", "a growing cluster", "—", "—", "~7 MB growing to 50+ MB",
     "bitnami-labs/sealed-secrets#1289"),
    ("External Secrets Operator", "1,000 secrets; 2,000 objects", "5–15 min to first sync (2,000)", "—",
     "250–630 MiB (1,000 secrets)",
     "external-secrets/external-secrets#2625, #3459, #4180"),
    ("cert-manager", "~90,000 Secrets", "—", "—", "5.2 GiB", "cert-manager/cert-manager#3748"),
]


def f1(x):
    return f"{x:,.1f}"


def f2(x):
    return f"{x:,.2f}"


def us(x):
    return f"{x:,.1f}"


def met(ok):
    return "**met**" if ok else "**not met**"


# --- sections -----------------------------------------------------------------------------


def section_crypto(c):
    out = [
        "## Per item, in process: seal and unseal",
        "",
        "Thread CPU time, medians of a pass that alternates every operation call by call, so each",
        "sees the same machine (`core/benches/item.rs`, `core/benches/age.rs`; criterion's wall-clock",
        f"figures are in `target/criterion`). Rounds: {', '.join(f'{k} {v}' for k, v in c['rounds'].items())}.",
        "The baseline is the raw primitive of the fastest library in the build (aws-lc-rs for RSA-OAEP;",
        "for age the fastest of aws-lc-rs and RustCrypto), measured in the same pass. An age baseline",
        "does all the cryptography of the item and nothing else: the key agreement (X25519; for",
        "post-quantum also ML-KEM-768, the X-Wing combiner and the HPKE key schedule), HKDF, the file",
        "key's ChaCha20-Poly1305, the header's HMAC and the payload's ChaCha20-Poly1305, at the real",
        "item's sizes. `openssl speed` (" + c["openssl_version"] + ") is an outside reference: its RSA private",
        "figure is a raw `sign` (no OAEP), its public figure `verify`.",
        "",
        "| operation | ours (µs) | raw primitive (µs) | openssl speed (µs/op) | ours/raw | ours/openssl |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for key, r in c["rsa"].items():
        if "ours_us" not in r:
            continue
        out.append(f"| {r['label']}, RSA-{r['bits']} | {us(r['ours_us'])} | {us(r['raw_us'])} (aws-lc-rs OAEP) | "
                   f"{us(r['openssl_us'])} | {f2(r['ratio_raw'])} | {f2(r['ratio_openssl'])} |")
    labels = {"age_x25519": "X25519", "age_pq": "post-quantum (ML-KEM-768 + X25519)"}
    for key, r in c["age"].items():
        group, op = key.split("/")
        ossl = r.get("openssl_us")
        others = ", ".join(f"{lib} {us(v)}" for lib, v in r["raw_us"].items() if lib != r["fastest_lib"])
        out.append(f"| age {op}, {labels[group]} | {us(r['ours_us'])} | {us(r['fastest_raw_us'])} ({r['fastest_lib']}; "
                   f"{others}) | {us(ossl) if ossl else '—'} | {f2(r['ratio'])} | "
                   f"{f2(r['ours_us'] / ossl) if ossl else '—'} |")
    out += [
        "",
        "Expected: unseal with the right key (ring of 1, or hinted) ≈ 1.00 × raw; seal ≈ 1.05 (an OS",
        "random session key and AES-GCM on top); ring of 5 without hint ≈ 5 (five RSA decryptions, by",
        "construction the worst case). The X25519 openssl figure is one derive, for `open`; OpenSSL 3.0",
        "has no ML-KEM. age items: seal and open ≈ 1.1–1.3 × raw (the `age` crate's header parsing",
        "and encoding, its stream buffers, RustCrypto's HKDF and ChaCha20-Poly1305 on small inputs).",
        "",
        "| bare primitive | aws-lc-rs (µs) | openssl speed (µs/op) | aws-lc/openssl |",
        "|---|--:|--:|--:|",
    ]
    for key, r in c["rsa"].items():
        if "ours_us" in r:
            continue
        out.append(f"| {r['label']}, RSA-{r['bits']} | {us(r['raw_us'])} | {us(r['openssl_us'])} | "
                   f"{f2(r['raw_us'] / r['openssl_us'])} |")
    return out


def section_cli(c):
    s, o, fl = c["sealant"], c["openssl"], c["floor"]
    return [
        "## CLI, whole process: `sealant seal`",
        "",
        f"One Secret with 3 items sealed from a certificate file (RSA-4096), {s['runs']} runs each,",
        f"interleaved by the timer ({c['timer']}). Baseline in the same run: one `openssl pkeyutl",
        "-encrypt` process doing one RSA-OAEP public operation with the same certificate.",
        "",
        "| command | median (ms) | min (ms) | max (ms) |",
        "|---|--:|--:|--:|",
        f"| `sealant seal -f secret.yaml --cert rsa4096.crt` (3 items) | {f2(s['median_ms'])} | {f2(s['min_ms'])} | {f2(s['max_ms'])} |",
        f"| `openssl pkeyutl -encrypt` (1 item's RSA operation) | {f2(o['median_ms'])} | {f2(o['min_ms'])} | {f2(o['max_ms'])} |",
        f"| `sealant --version` (start-up and exit; context) | {f2(fl['median_ms'])} | {f2(fl['min_ms'])} | {f2(fl['max_ms'])} |",
        "",
        f"Ratio sealant/openssl: **{f2(c['ratio'])}**.",
    ]


def section_reencrypt(r):
    return [
        f"## Bulk: offline `sealant reencrypt` of {r['n']:,} SealedSecrets × 3 items",
        "",
        f"RSA-4096 to RSA-4096, one file each, rewritten in place, on {r['threads']} threads. The floor,",
        f"measured alternately with it ({r['reps']} repetition(s) each, medians): {r['items']:,} × (one",
        "RSA-OAEP private + one public operation), bare aws-lc-rs, spread over the same threads",
        "(`core/benches/bulk.rs`).",
        "",
        "| run | wall (s) | CPU (s) | CPU/wall (cores used) |",
        "|---|--:|--:|--:|",
        f"| `sealant reencrypt --private-key OLD --cert NEW DIR` | {f2(r['sealant_wall_s'])} | {f2(r['sealant_cpu_s'])} | {f2(r['sealant_cpu_s'] / r['sealant_wall_s'])} |",
        f"| floor: {r['items']:,} private + public pairs | {f2(r['floor_wall_s'])} | {f2(r['floor_cpu_s'])} | {f2(r['floor_cpu_s'] / r['floor_wall_s'])} |",
        f"| floor, ideal: its CPU time / {r['threads']} cores | {f2(r['floor_ideal_s'])} | | |",
        "",
        f"Ratio sealant/floor: **{f2(r['ratio_wall'])}** (wall), {f2(r['ratio_cpu'])} (CPU). Peak RSS of",
        f"`sealant reencrypt`: {f1(r['sealant_maxrss_mib'])} MiB.",
    ]


def window_line(w):
    cpu = w["cpu_s"]
    wall = w["wall_s"]
    parts = ", ".join(f"{name} {f1(v)} s ({v / wall:.2f} cores)" for name, v in
                      sorted(cpu.items(), key=lambda kv: -kv[1]) if v >= 0.05)
    return (f"{f1(wall)} s: machine {w['machine_busy'] * 100:.0f}% busy ({w['cores']} cores); CPU: {parts}; "
            f"API server: {w['api_requests']:,.0f} requests, **{w['api_requests_per_s']:,.0f}/s**")


def bottleneck(w):
    """Who bound the window: the CPU was saturated by the control plane, the controller or other
    people's processes, or nothing saturated it (waiting on something else)."""
    cpu = w["cpu_s"]
    if w["machine_busy"] < 0.85:
        return "nothing CPU-bound (the machine was not saturated)"
    shares = {
        "the test control plane (kube-apiserver, etcd, kube-controller-manager)":
            sum(v for k, v in cpu.items() if k in ("kube-apiserver", "etcd", "kube-controller-manager")),
        "the controller": cpu.get("controller", 0.0),
        "processes outside this benchmark": cpu.get("everything else on the machine", 0.0),
    }
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    return ("the CPU, used most by " + ", then ".join(f"{who} ({f1(v)} s)" for who, v in ranked))


def rsa_floor_us(crypto):
    """The RSA floor of one SealedSecret in µs (ITEMS_PER_OBJECT raw RSA-4096 OAEP decryptions,
    from the crypto section of the same run), or None when that section did not run."""
    raw = ((crypto or {}).get("rsa") or {}).get(FLOOR_KEY, {}).get("raw_us")
    return ITEMS_PER_OBJECT * raw if raw else None


def own_floor_us(phase):
    """The decryptions' own CPU µs per SealedSecret in a backlog phase, measured inside the
    controller on the threads that ran them (`sealant_unseal_cpu_seconds_total`): the RSA floor
    under the same load as the rest of the controller's work. None for controllers without it."""
    cpu = phase.get("unseal_cpu_s")
    return cpu / (phase["n"] + 1) * 1e6 if cpu else None


def cpu_per_object_us(phase):
    """Controller CPU µs per SealedSecret synced in a backlog phase (its N and the newcomer)."""
    return phase["window"]["cpu_s"]["controller"] / (phase["n"] + 1) * 1e6


def section_large(large, deployed):
    n, restart = large["n"], large.get("restart")
    out = [
        f"### A backlog of {n:,}",
        "",
        f"{n:,} SealedSecrets created with no controller watching (8 parallel clients), then the",
        f"controller ({deployed}) starts; once it is ready, one newcomer is created. Then a restart",
        "with all in sync. The driver reads the controller's metrics less often at this size (every",
        f"{large.get('metrics_poll_s', 0.5):.1f} s), since the page has a line per object.",
        "",
        "| figure | value |",
        "|---|--:|",
        f"| {n:,} creates alone, 8 clients | {f1(large['creates_s'])} s ({large['create_rate_per_s']:,.0f}/s) |",
        f"| controller start → ready (initial list done) | {f2(large['ready_s'])} s |",
        f"| controller start → all Synced | **{f1(large['synced_s'])} s** ({f2(large['synced_s'] / n * 1000)} s per 1,000) |",
        f"| a newcomer created once ready → Synced | {f2(large['newcomer_synced_s'])} s "
        f"({large['newcomer_backlog_waiting']:,} of the {n:,} still waiting then) |",
        f"| API requests per SealedSecret (controller, watches excluded) | {f2(large['requests_per_sealedsecret'])} |",
        f"| controller CPU, start → all Synced | {f1(large['window']['cpu_s']['controller'])} s "
        f"({f2(cpu_per_object_us(large) / 1000)} ms per SealedSecret) |",
        f"| RSS after the backlog sync | {f1(large['rss_mib'])} MiB (peak {f1(large['hwm_mib'])}) |",
    ]
    if restart:
        out += [
            f"| restart with all in sync → ready / all looked at | {f2(restart['ready_s'])} s / **{f2(restart['seen_s'])} s** |",
            f"| RSA operations after the restart | {restart['rsa_ops']:,.0f} |",
            f"| controller CPU, restart → all looked at | {f1(restart.get('cpu_seen_s', restart['cpu_s']))} s |",
        ]
        if "requests_per_sealedsecret" in restart:
            out.append(f"| API requests per SealedSecret, restart (watches excluded) | {f2(restart['requests_per_sealedsecret'])} |")
        out.append(f"| RSS after the restart | {f1(restart['rss_mib'])} MiB (peak {f1(restart['hwm_mib'])}) |")
    out += [
        "",
        f"- creates alone: {window_line(large['create_window'])}.",
        f"- sync (controller start → all Synced): {window_line(large['window'])}. Bound by {bottleneck(large['window'])}.",
    ]
    return out


def section_controller(c, floor_us=None):
    idle = {i["build"]: i for i in c["idle"]}
    builds = list(c["builds"])
    deployed, other = builds[0], builds[1]
    out = [
        "## Controller on the test control plane",
        "",
        f"Kubernetes {c.get('kubernetes', 'unknown')} from `tests/cluster` (etcd, kube-apiserver,",
        "kube-controller-manager on loopback) on the same machine, so the control plane and the",
        "controller share its cores. SealedSecrets have 3 items each, RSA-4096. The driver",
        "(`bench/controller.py`) talks to the API server directly (8 parallel clients for creates)",
        "and reads progress from the controller's metrics; the end state is checked with a LIST.",
        f"Builds: **{deployed}** (`deploy/image/build-static.sh`, what the image ships; every phase)",
        f"and {other} (idle and restart, for comparison); binary sizes "
        + ", ".join(f"{b} {f1(v['size_mib'])} MiB" for b, v in c["builds"].items()) + ".",
        "",
        "| figure | " + " | ".join(f"N = {r['n']:,}" for r in c["runs"]) + " |",
        "|---|" + "--:|" * len(c["runs"]),
    ]

    def row(label, fn):
        out.append(f"| {label} | " + " | ".join(fn(r) for r in c["runs"]) + " |")

    row("N creates alone, 8 clients (the API server's floor)", lambda r: f"{f2(r['live']['creates_s'])} s ({r['live']['create_rate_per_s']:,.0f}/s)")
    row("live: first create → all N Synced", lambda r: f"**{f2(r['live']['synced_s'])} s**")
    row("one more created right after the N (queued behind them) → Synced", lambda r: f"{f2(r['live']['probe_synced_s'])} s")
    row("backlog: N created first, then controller start → all Synced", lambda r: f"**{f2(r['backlog']['synced_s'])} s**" if "backlog" in r else "—")
    row("API requests per SealedSecret (controller, watches excluded)", lambda r: f2(r["live"]["requests_per_sealedsecret"]))
    row("  by verb during the live sync (incl. start-up)", lambda r: ", ".join(f"{k} {v:,.0f}" for k, v in sorted(r["live"]["requests_by_verb"].items())))
    row(f"restart with all in sync → ready, {deployed}", lambda r: f"{f2(r['live']['restart']['ready_s'])} s")
    row(f"restart → all looked at, {deployed}", lambda r: f"**{f2(r['live']['restart']['seen_s'])} s**")
    row(f"RSA operations after the restart, {deployed}", lambda r: f"{r['live']['restart']['rsa_ops']:,.0f}")
    row(f"restart → ready / all looked at, {other}", lambda r: f"{f2(r['live']['restart_other']['ready_s'])} s / {f2(r['live']['restart_other']['seen_s'])} s")
    row(f"RSS after the live sync, {deployed}", lambda r: f"{f1(r['live']['rss_mib'])} MiB (peak {f1(r['live']['hwm_mib'])})")
    row(f"RSS after the restart, {deployed}", lambda r: f"{f1(r['live']['restart']['rss_mib'])} MiB (peak {f1(r['live']['restart']['hwm_mib'])})")
    row(f"RSS after the backlog sync, {deployed}", lambda r: f"{f1(r['backlog']['rss_mib'])} MiB (peak {f1(r['backlog']['hwm_mib'])})" if "backlog" in r else "—")
    row(f"RSS after the restart, {other}", lambda r: f"{f1(r['live']['restart_other']['rss_mib'])} MiB (peak {f1(r['live']['restart_other']['hwm_mib'])})")
    row("controller CPU per SealedSecret, backlog sync", lambda r: (
        f"{f2(cpu_per_object_us(r['backlog']) / 1000)} ms"
        + (f" ({f2(cpu_per_object_us(r['backlog']) / own_floor_us(r['backlog']))}× its decryptions' CPU)"
           if own_floor_us(r["backlog"]) else "")
        + (f" ({f2(cpu_per_object_us(r['backlog']) / floor_us)}× the quiet RSA floor)" if floor_us else "")
        if "backlog" in r else "—"))
    out += [
        "",
        "RSS idle (keys loaded, an empty namespace watched, one metrics scrape, 3 s after ready): "
        + "; ".join(f"**{b}: {f1(i['rss_mib'])} MiB**" for b, i in idle.items()) + ".",
        "",
    ]
    if floor_us:
        ratios = [f"N = {r['n']:,}: **{f2(cpu_per_object_us(r['backlog']) / floor_us)}×**"
                  for r in c["runs"] if "backlog" in r]
        out += [f"Controller CPU per new SealedSecret against its RSA floor, {ITEMS_PER_OBJECT} × "
                f"{us(floor_us / ITEMS_PER_OBJECT)} µs = {f2(floor_us / 1000)} ms (raw RSA-4096 OAEP decrypt,",
                "aws-lc-rs, thread CPU time, from the crypto section of this run), over the backlog sync: "
                + ("; ".join(ratios) if ratios else "no backlog phase in this run") + ". The controller's",
                "CPU counts everything it does for one (watch events, the Secret's create, the status patch,",
                "its share of start-up).", ""]
    owns = [f"N = {r['n']:,}: **{f2(cpu_per_object_us(r['backlog']) / own_floor_us(r['backlog']))}×** "
            f"({f2(own_floor_us(r['backlog']) / 1000)} ms of decryption per SealedSecret)"
            for r in c["runs"] if "backlog" in r and own_floor_us(r["backlog"])]
    if owns:
        out += ["The same CPU against the decryptions' own CPU time in the controller (thread CPU time of",
                "each decryption, `sealant_unseal_cpu_seconds_total`: the RSA floor under the load the rest",
                "of its work sees, which the quiet crypto section does not; docs/design/cpu.md): "
                + "; ".join(owns) + ".", ""]
    else:
        out += ["The controller's CPU per SealedSecret is not set against its RSA floor: the crypto section",
                "(which measures the raw RSA-4096 decrypt) did not run.", ""]
    out += [
        "Who used the CPU, per timed window, and the API server's own request rate",
        "(`apiserver_request_total`, all clients, watches included):",
        "",
    ]
    for r in c["runs"]:
        out.append(f"- N = {r['n']:,}, live (creates + sync): {window_line(r['live']['window'])}. Bound by {bottleneck(r['live']['window'])}.")
        if "backlog" in r:
            out.append(f"- N = {r['n']:,}, backlog creates alone: {window_line(r['backlog']['create_window'])}.")
            out.append(f"- N = {r['n']:,}, backlog sync (controller start → all Synced): {window_line(r['backlog']['window'])}. Bound by {bottleneck(r['backlog']['window'])}.")
    if c.get("large"):
        out += [""] + section_large(c["large"], deployed)
    return out


# --- the whole report ---------------------------------------------------------------------


def run_for(controller, n):
    for r in controller.get("runs", []):
        if r["n"] == n:
            return r
    return None


def large_rows(ctl, deployed):
    """The targets at LARGE_N (the large phase of a full run); "not measured" without it."""
    large = ctl.get("large")
    rss_what = (f"RSS ≤ {RSS_LARGE_MAX_MIB:.0f} MiB at {LARGE_N:,} ({deployed}; highest of after backlog, "
                "after restart)")
    sync_what = f"{LARGE_N:,} SealedSecrets: backlog → all Synced; restart with 0 RSA operations ({deployed})"
    if not large or large.get("n") != LARGE_N:
        why = (f"this run's large phase had N = {large['n']:,}" if large else "this run had no large phase")
        return [(what, f"not measured ({why}; `bash bench/run.sh` measures {LARGE_N:,})", "—")
                for what in (rss_what, sync_what)]
    rows = []
    restart = large.get("restart") or {}
    rss = max(large["rss_mib"], restart.get("rss_mib", 0.0))
    rows.append((rss_what, f"{f1(rss)} MiB (after backlog {f1(large['rss_mib'])}, after restart "
                 + (f"{f1(restart['rss_mib'])})" if restart else "not measured)"), met(rss <= RSS_LARGE_MAX_MIB)))
    synced = large.get("verified_synced", large["n"] + 1)
    all_synced = synced >= large["n"] + 1
    measured = (f"all Synced {f1(large['synced_s'])} s after the start "
                f"({f2(large['synced_s'] / large['n'] * 1000)} s per 1,000)" if all_synced
                else f"{synced:,} of {large['n'] + 1:,} Synced")
    if restart:
        measured += (f"; restart: ready {f2(restart['ready_s'])} s, all looked at {f2(restart['seen_s'])} s, "
                     f"{restart['rsa_ops']:,.0f} RSA operations")
        ok = all_synced and restart["rsa_ops"] == 0
    else:
        measured += "; restart not measured"
        ok = False
    rows.append((sync_what, measured, met(ok)))
    return rows


def backlog_rows(r, floor_us):
    """The targets from the backlog phase at TARGET_N: the newcomer and CPU against the RSA floor."""
    newcomer_what = f"a newcomer behind a {TARGET_N:,}-object backlog Synced ≤ {NEWCOMER_MAX_S:.0f} s"
    cpu_what = (f"controller CPU per new SealedSecret ≤ {CPU_FLOOR_MAX}× its RSA floor (its {ITEMS_PER_OBJECT} "
                f"RSA-4096 decryptions' CPU in the same run; backlog sync at {TARGET_N:,})")
    b = (r or {}).get("backlog")
    if b is None:
        why = (f"this run had no N = {TARGET_N:,}" if r is None else "this run had no backlog phase")
        return [(what, f"not measured ({why})", "—") for what in (newcomer_what, cpu_what)]
    rows = [(newcomer_what, f"{f2(b['newcomer_synced_s'])} s ({b['newcomer_backlog_waiting']:,} of {b['n']:,} "
             "still waiting then)", met(b["newcomer_synced_s"] <= NEWCOMER_MAX_S))]
    cpu = cpu_per_object_us(b)
    own = own_floor_us(b)
    if own:
        ratio = cpu / own
        quiet = f"; quiet raw decrypts: {f2(floor_us / 1000)} ms, {f2(cpu / floor_us)}×" if floor_us else ""
        rows.append((cpu_what, f"{f2(ratio)}× ({f2(cpu / 1000)} ms / {f2(own / 1000)} ms of decryption measured "
                     f"in the controller{quiet})", met(ratio <= CPU_FLOOR_MAX)))
    elif floor_us:
        ratio = cpu / floor_us
        rows.append((cpu_what, f"{f2(ratio)}× ({f2(cpu / 1000)} ms / {f2(floor_us / 1000)} ms; controller "
                     f"{f1(b['window']['cpu_s']['controller'])} CPU s for {b['n'] + 1:,})", met(ratio <= CPU_FLOOR_MAX)))
    else:
        rows.append((cpu_what, f"not measured (the crypto section did not run: no RSA floor; "
                     f"{f2(cpu / 1000)} ms CPU per SealedSecret)", "—"))
    return rows


def section_targets(d):
    rows = []
    crypto, cli, ctl = d.get("crypto"), d.get("cli"), d.get("controller")
    if crypto:
        for bits in (2048, 4096):
            for fn, what in (("unseal_ring1", "ring of 1"), ("unseal_ring5_hinted", "ring of 5, hinted")):
                r = crypto["rsa"][f"rsa{bits}/{fn}"]
                rows.append((f"unseal overhead ≤ {UNSEAL_OVERHEAD_MAX}× raw RSA-OAEP decrypt (RSA-{bits}, {what})",
                             f"{f2(r['ratio_raw'])}× ({us(r['ours_us'])} / {us(r['raw_us'])} µs)",
                             met(r["ratio_raw"] <= UNSEAL_OVERHEAD_MAX)))
        labels = {"age_x25519": "X25519", "age_pq": "post-quantum ML-KEM-768 + X25519"}
        for group, label in labels.items():
            r = crypto.get("age", {}).get(f"{group}/open")
            if r is None:
                continue
            rows.append((f"age item open ≤ {AGE_OPEN_OVERHEAD_MAX}× its raw primitives ({label})",
                         f"{f2(r['ratio'])}× ({us(r['ours_us'])} / {us(r['fastest_raw_us'])} µs, {r['fastest_lib']})",
                         met(r["ratio"] <= AGE_OPEN_OVERHEAD_MAX)))
    if ctl:
        r = run_for(ctl, TARGET_N)
        deployed = list(ctl["builds"])[0]
        if r is None:
            sizes = ", ".join(str(x["n"]) for x in ctl["runs"])
            for what in ("5,000 new SealedSecrets Synced ≤ 60 s", "restart with 5,000 in sync ≤ 15 s, 0 RSA operations",
                         "RSS ≤ 30 MiB at 5,000"):
                rows.append((what, f"not measured (this run: N = {sizes}; `--full` measures 5,000)", "—"))
        else:
            live, restart = r["live"], r["live"]["restart"]
            rows.append((f"{TARGET_N:,} new SealedSecrets Synced ≤ {SYNC_5000_MAX_S:.0f} s, live (first create → all Synced)",
                         f"{f1(live['synced_s'])} s (the creates alone: {f1(live['creates_s'])} s)",
                         met(live["synced_s"] <= SYNC_5000_MAX_S)))
            if "backlog" in r:
                b = r["backlog"]
                rows.append((f"{TARGET_N:,} new SealedSecrets Synced ≤ {SYNC_5000_MAX_S:.0f} s, backlog (controller start → all Synced)",
                             f"{f1(b['synced_s'])} s", met(b["synced_s"] <= SYNC_5000_MAX_S)))
            rows.append((f"restart with {TARGET_N:,} in sync ≤ {RESTART_5000_MAX_S:.0f} s with 0 RSA operations ({deployed})",
                         f"ready {f2(restart['ready_s'])} s, all looked at {f2(restart['seen_s'])} s, {restart['rsa_ops']:.0f} RSA operations",
                         met(restart["seen_s"] <= RESTART_5000_MAX_S and restart["rsa_ops"] == 0)))
            rss = max(live["rss_mib"], restart["rss_mib"], r.get("backlog", {}).get("rss_mib", 0.0))
            rows.append((f"RSS ≤ {RSS_5000_MAX_MIB:.0f} MiB at {TARGET_N:,} ({deployed}; highest of after sync, after restart, after backlog)",
                         f"{f1(rss)} MiB", met(rss <= RSS_5000_MAX_MIB)))
        rows += large_rows(ctl, deployed)
        rows += backlog_rows(r, rsa_floor_us(crypto))
        for i in ctl["idle"]:
            label = "deployed, counts" if i["build"] == deployed else "for comparison"
            rows.append((f"RSS ≤ {RSS_IDLE_MAX_MIB:.0f} MiB idle ({i['build']}; {label})", f"{f1(i['rss_mib'])} MiB",
                         met(i["rss_mib"] <= RSS_IDLE_MAX_MIB)))
    if cli:
        m = cli["sealant"]["median_ms"]
        rows.append((f"CLI seal ≤ {CLI_SEAL_MAX_MS:.0f} ms (median, whole process, 3 items)", f"{f2(m)} ms", met(m <= CLI_SEAL_MAX_MS)))
    out = ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return out


def section_machine(m):
    out = [
        "## Machine and run",
        "",
        f"- date: {m['date']}; mode: {m['mode']}; command: `{m['command']}`",
        f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory']}; kernel {m['kernel']}",
        f"- {m['rustc']}; {m['openssl']}; timer for the CLI: {m.get('timer', 'n/a')}",
        f"- sealant revision: {m['revision']}",
        f"- run time: {m.get('duration_s', 0) / 60:.1f} min",
        "",
        "Load on the machine from other processes, measured for 3 s before each section while this run",
        "was idle (cores busy out of " + str(m["cores"]) + ") and the load average at that moment:",
        "",
        "| before | other processes (cores) | load average (1/5/15 min) |",
        "|---|--:|---|",
    ]
    out += [f"| {p['section']} | {p['busy_cores']:.2f} | {p['loadavg']} |" for p in m["probes"]]
    return out


def busy_verdict(m, ctl):
    worst = max((p["busy_cores"] for p in m["probes"]), default=0.0)
    others = []
    for r in (ctl or {}).get("runs", []):
        for phase in ("live", "backlog"):
            if phase in r:
                w = r[phase]["window"]
                others.append(w["cpu_s"]["everything else on the machine"] / w["wall_s"])
    large = (ctl or {}).get("large")
    if large:
        w = large["window"]
        others.append(w["cpu_s"]["everything else on the machine"] / w["wall_s"])
    worst_in = max(others, default=0.0)
    if worst < BUSY_CORES and worst_in < BUSY_CORES:
        return (f"**The machine was quiet**: other processes used at most {worst:.2f} cores before a section"
                + (f" and {worst_in:.2f} during the controller windows." if others else "."))
    return (f"**The machine was busy**: other processes used up to {worst:.2f} of {m['cores']} cores before a section"
            + (f" and up to {worst_in:.2f} cores during the controller windows" if others else "")
            + ". CPU-time figures (per item) and same-run ratios hold; absolute wall times (CLI, bulk,"
            " controller) are slower than on a quiet machine. Rerun the full command on a quiet machine for"
            " figures to quote.")


def section_tenants(t):
    out = [
        "## Hostile tenants (tests/tests/tenants.rs)",
        "",
        "One controller, a victim namespace with 50 SealedSecrets, and an attacker with rights in its",
        "own namespace only (forged internal annotations, template amplification, idle-connection",
        "floods, forged status and owners, huge, many and forever-failing objects). Each row is one",
        "test of the suite (debug build, as CI runs it). Victim latency: from the create or update",
        "call to Secret and status in sync; `baseline` is the victim's round before the attack, in",
        "the same test.",
        "",
        "| test | controller peak RSS (bound) | victim rounds: create / update | test wall time |",
        "|---|---|---|---|",
    ]
    for r in t.get("runs", []):
        rounds = "; ".join(r.get("rounds", [])) or "—"
        out.append(f"| `{r['test']}` | {f1(r['peak_rss_mib'])} MiB ({r['rss_bound_mib']} MiB) | {rounds} | {f1(r['wall_s'])} s |")
    return out


def section_keyprotect(k):
    out = [
        "## Key protection start-up cost (bench/keyprotect.sh)",
        "",
        f"Protected keys unwrapped through SoftHSM2 ({k.get('softhsm', 'unknown')}) as the controller does at",
        "start: one provider unwrap (`C_Decrypt`) plus the local AES-GCM and PKCS#8 parse per key",
        "(debug build). Unsealing is unchanged: keys are unwrapped once and kept in memory.",
        "",
        "| keys | unwrap + open, total | per key |",
        "|---|---|---|",
    ]
    for r in k.get("unwrap", []):
        out.append(f"| {r['keys']} | {f2(r['total_ms'])} ms | {f2(r['per_key_ms'])} ms |")
    out += [
        "",
        f"Connecting (load the module, find the token, log in, check the KEK): {f2(k.get('connect_ms', 0))} ms;"
        f" the provider's unwrap alone: {f2(k.get('provider_unwrap_ms', 0))} ms per call.",
    ]
    return out


def section_pictures(ctl, report_path):
    """The pictures next to the report, embedded; says which curve is missing and why."""
    out = ["### Pictures", ""]
    directory = pathlib.Path(report_path).parent
    stem = pathlib.Path(report_path).stem
    sync_name, rss_name = f"{stem}-{figures.SYNC_NAME}.svg", f"{stem}-{figures.RSS_NAME}.svg"
    drawn = figures.draw_sync(ctl, directory / sync_name)
    if drawn:
        missing = [n for n in figures.SYNC_SIZES if n not in drawn]
        out += [f"SealedSecrets created (dashed) and Synced (solid) over time, N = "
                + " and ".join(f"{n:,}" for n in drawn) + ":", "",
                f"![created and Synced over time]({sync_name})", ""]
        if missing:
            out += ["No curve for N = " + " or ".join(f"{n:,}" for n in missing)
                    + ": this run did not measure it.", ""]
    else:
        out += ["No sync curve: this run's controller data has no `curves`.", ""]
    points = figures.draw_rss(ctl, directory / rss_name)
    if points:
        out += [f"Controller RSS against the number of objects ({points} points, {list(ctl['builds'])[0]}):", "",
                f"![RSS against the number of objects]({rss_name})"]
    else:
        out += ["No RSS curve: this run's controller data has no `rss_points`."]
    return out


def section_published(ctl):
    """Our figures beside the ones other projects' users published (PUBLISHED)."""
    out = [
        "## Beside published figures",
        "",
        "Our rows are this run (the machine below, the test control plane on the same cores,",
        "SealedSecrets of 3 items, RSA-4096). The others are what users of those projects published",
        "in their trackers, on their own clusters and hardware, with other object sizes: quoted for",
        "scale, not measured here and not a like-for-like benchmark.",
        "",
        "| controller | objects | all synced | a new object waits | memory | source |",
        "|---|---|---|---|---|---|",
    ]
    ctl = ctl or {}
    rss_at = {int(n): v for n, v in ctl.get("rss_points", []) or []}
    shown = set()
    for r in ctl.get("runs", []):
        live = r["live"]
        rss = max(live["rss_mib"], r.get("backlog", {}).get("rss_mib", 0.0), rss_at.get(r["n"], 0.0))
        out.append(f"| sealant | {r['n']:,} SealedSecrets, created while it runs | {f1(live['synced_s'])} s | "
                   f"{f1(live['probe_synced_s'])} s | {f1(rss)} MiB RSS | this run |")
        shown.add(r["n"])
    large = ctl.get("large")
    if large:
        rss = max(large.get("rss_mib", 0.0), rss_at.get(large["n"], 0.0))
        waits = f"{f1(large['newcomer_synced_s'])} s" if "newcomer_synced_s" in large else "—"
        out.append(f"| sealant | {large['n']:,} SealedSecrets, a backlog at start | {f1(large['synced_s'])} s | "
                   f"{waits} | {f1(rss)} MiB RSS | this run |")
        shown.add(large["n"])
    for n, v in sorted(rss_at.items()):
        if n not in shown and n > 0:
            out.append(f"| sealant | {n:,} SealedSecrets | — | — | {f1(v)} MiB RSS | this run |")
    for project, objects, synced, waits, memory, source in PUBLISHED:
        out.append(f"| {project} | {objects} | {synced} | {waits} | {memory} | {source} |")
    return out


def full(directory, report_path=None):
    d = {}
    for name in ("machine", "crypto", "cli", "reencrypt", "controller", "tenants", "keyprotect"):
        path = pathlib.Path(directory) / f"{name}.json"
        if path.exists():
            d[name] = json.loads(path.read_text())
    m = d["machine"]
    out = [
        "# sealant benchmarks",
        "",
        f"Generated by `{m['command']}` on {m['date']} ({m['mode']}). Do not edit: rerun the command.",
        "Every figure comes with a baseline measured in the same run; read the ratios, since absolute",
        "times depend on the machine and on what else it runs. Tests never assert on these figures.",
        "",
        busy_verdict(m, d.get("controller")),
        "",
    ]
    out += section_targets(d) + [""]
    if "crypto" in d:
        out += section_crypto(d["crypto"]) + [""]
    if "cli" in d:
        out += section_cli(d["cli"]) + [""]
    if "reencrypt" in d:
        out += section_reencrypt(d["reencrypt"]) + [""]
    if "controller" in d:
        out += section_controller(d["controller"], rsa_floor_us(d.get("crypto"))) + [""]
        if report_path is not None:
            out += section_pictures(d["controller"], report_path) + [""]
        out += section_published(d["controller"]) + [""]
    if "tenants" in d:
        out += section_tenants(d["tenants"]) + [""]
    if "keyprotect" in d:
        out += section_keyprotect(d["keyprotect"]) + [""]
    out += section_machine(m)
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "section":
        data = json.loads(pathlib.Path(sys.argv[3]).read_text())
        fn = {"crypto": section_crypto, "cli": section_cli, "reencrypt": section_reencrypt,
              "controller": section_controller, "tenants": section_tenants,
              "keyprotect": section_keyprotect}[sys.argv[2]]
        print("\n".join(fn(data)))
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "full":
        sys.stdout.write(full(sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
