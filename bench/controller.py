"""The controller at scale on the test control plane; driven by bench/controller.sh.

Talks to the API server directly (stdlib HTTPS, the cluster's admin token) instead of running
kubectl: a kubectl process per poll would itself load the 2-core machine, and a LIST of 5,000
SealedSecrets every fraction of a second would load the API server being measured. Progress
is read from the controller's own metrics (`sealant_sealedsecrets`), and the end state is
checked with one LIST.

For every timed window it also records the CPU seconds used by the controller, kube-apiserver,
etcd, kube-controller-manager, this driver, and the rest of the machine (other people's work),
and the API server's own request count (`apiserver_request_total`), so a reader can tell who
the bottleneck was. Prints progress on stderr; writes JSON (--json) for bench/report.py.
"""

import argparse
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

CLK_TCK = os.sysconf("SC_CLK_TCK")
GROUP_PATH = "/apis/bitnami.com/v1alpha1"


def log(message):
    print(f"controller.py: {message}", file=sys.stderr, flush=True)


class Api:
    """The API server, as the cluster's admin (one keep-alive connection per thread)."""

    def __init__(self, cluster_dir):
        env = dict(line.split("=", 1) for line in open(f"{cluster_dir}/cluster.env").read().split())
        url = env["APISERVER_URL"]
        self.host, self.port = url.removeprefix("https://").split(":")
        header = open(f"{cluster_dir}/pki/auth-header").read().strip()
        self.auth = header.split(": ", 1)[1]
        self.ctx = ssl.create_default_context(cafile=f"{cluster_dir}/pki/ca.crt")
        self.local = threading.local()

    def conn(self):
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPSConnection(self.host, int(self.port), context=self.ctx, timeout=60)
        return self.local.conn

    def request(self, method, path, body=None, ok=(200, 201)):
        for attempt in range(3):
            try:
                conn = self.conn()
                headers = {"Authorization": self.auth, "Accept": "application/json"}
                if body is not None:
                    headers["Content-Type"] = "application/json"
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.status not in ok:
                    raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
                return data
            except (http.client.HTTPException, ConnectionError, TimeoutError):
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get_json(self, path):
        return json.loads(self.request("GET", path))

    def request_total(self):
        """Sum of apiserver_request_total over all series, and the sum for WATCH requests."""
        total = watch = 0.0
        for line in self.request("GET", "/metrics").decode().splitlines():
            if line.startswith("apiserver_request_total{"):
                value = float(line.rsplit(" ", 1)[1])
                total += value
                if 'verb="WATCH"' in line:
                    watch += value
        return total, watch


def proc_cpu(pid):
    """User+system CPU seconds of a process, or 0 when it is gone."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine since boot."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def rss_mib(pid):
    status = open(f"/proc/{pid}/status").read()
    rss = int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1))
    hwm = int(re.search(r"^VmHWM:\s+(\d+)", status, re.M).group(1))
    return rss / 1024, hwm / 1024


class Controller:
    def __init__(self, binary, build, args, namespace, log_path):
        self.binary, self.build, self.args, self.namespace = binary, build, args, namespace
        cmd = [binary, "--kubeconfig", args.kubeconfig, "--controller-namespace", "bench",
               "--all-namespaces=false", "--additional-namespaces", namespace,
               "--leader-elect=false", "--listen-addr", f"127.0.0.1:{args.api_port}",
               "--listen-metrics-addr", f"127.0.0.1:{args.metrics_port}", "--log-level", "WARN"]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT)
        self.log_path = log_path

    def get(self, port, path):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def alive(self):
        if self.proc.poll() is not None:
            tail = open(self.log_path, errors="replace").read()[-2000:]
            raise RuntimeError(f"the controller exited with {self.proc.returncode}:\n{tail}")

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            self.alive()
            try:
                if self.get(self.args.api_port, "/readyz")[0] == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the controller did not become ready")
            time.sleep(0.02)

    def cert(self):
        status, body = self.get(self.args.api_port, "/v1/cert.pem")
        if status != 200:
            raise RuntimeError(f"/v1/cert.pem: HTTP {status}")
        return body

    def metrics(self):
        """{series line without value: value} of the controller's metrics."""
        status, body = self.get(self.args.metrics_port, "/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics: HTTP {status}")
        out = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                series, value = line.rsplit(" ", 1)
                out[series] = float(value)
        return out

    def metric(self, series):
        """One series' value (0 when absent), without parsing the whole page: at 5,000 objects
        the page has over 5,000 lines and is read several times a second."""
        status, body = self.get(self.args.metrics_port, "/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics: HTTP {status}")
        match = re.search(rb"^" + re.escape(series.encode()) + rb" (\S+)$", body, re.M)
        return float(match.group(1)) if match else 0.0

    def synced(self):
        return int(self.metric(
            f'sealant_sealedsecrets{{namespace="{self.namespace}",condition="Synced",status="True"}}'))

    def cpu(self):
        return proc_cpu(self.proc.pid)

    def rss(self):
        return rss_mib(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def metric_sum(m, prefix, exclude=None):
    return sum(v for k, v in m.items() if k.startswith(prefix) and not (exclude and exclude in k))


class Window:
    """CPU seconds per party and API server requests over one timed interval."""

    def __init__(self, api, pids, controller=None):
        self.api, self.pids, self.controller = api, pids, controller
        self.start = self.sample()

    def sample(self):
        total, watch = self.api.request_total()
        own = os.times()
        return {
            "t": time.monotonic(),
            "procs": {name: proc_cpu(pid) for name, pid in self.pids.items()},
            "controller": self.controller.cpu() if self.controller else 0.0,
            "driver": own.user + own.system + own.children_user + own.children_system,
            "machine": machine_cpu(),
            "api_requests": total,
            "api_watch_requests": watch,
        }

    def finish(self, controller=None):
        end = self.sample()
        if controller is not None and self.controller is None:
            # The controller started inside the window: all its CPU belongs to it.
            end["controller"] = controller.cpu()
        s = self.start
        wall = end["t"] - s["t"]
        cpu = {name: end["procs"][name] - s["procs"][name] for name in self.pids}
        cpu["controller"] = end["controller"] - s["controller"]
        cpu["driver (this script, sealant seal)"] = end["driver"] - s["driver"]
        busy = end["machine"][0] - s["machine"][0]
        capacity = end["machine"][1] - s["machine"][1]
        cpu["everything else on the machine"] = max(0.0, busy - sum(cpu.values()))
        requests = end["api_requests"] - s["api_requests"]
        return {
            "wall_s": wall,
            "cpu_s": cpu,
            "machine_busy": busy / capacity if capacity else 0.0,
            "cores": os.cpu_count(),
            "api_requests": requests,
            "api_requests_per_s": requests / wall if wall else 0.0,
        }


def seal(args, cert_path, namespace, names):
    """SealedSecret objects (dicts) for `names` in `namespace`, 3 items each, via sealant seal."""
    text = "".join(
        f"---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {n}, namespace: {namespace}}}\n"
        f"stringData: {{a: va-{n}, b: vb-{n}, c: vc-{n}}}\n" for n in names)
    result = subprocess.run([args.sealant, "seal", "--cert", cert_path, "-o", "json"], input=text.encode(),
                            capture_output=True, check=True, env={**os.environ, "KUBECONFIG": ""})
    decoder, body, pos, out = json.JSONDecoder(), result.stdout.decode(), 0, []
    while True:
        while pos < len(body) and body[pos].isspace():
            pos += 1
        if pos >= len(body):
            break
        obj, pos = decoder.raw_decode(body, pos)
        out.append(json.dumps(obj))
    if len(out) != len(names):
        raise RuntimeError(f"sealant seal gave {len(out)} objects for {len(names)} Secrets")
    return out


SEAL_CHUNK = 1000


def seal_to_file(args, cert_path, namespace, n, path):
    """Seals s0..s{n-1} in chunks of SEAL_CHUNK (one `sealant seal` each) into `path`, one JSON
    object a line, so that the driver never holds more than one chunk: at 50,000 the bodies are
    over 100 MB of text. Returns the path."""
    with open(path, "w") as out:
        for start in range(0, n, SEAL_CHUNK):
            names = [f"s{i}" for i in range(start, min(n, start + SEAL_CHUNK))]
            for body in seal(args, cert_path, namespace, names):
                out.write(body + "\n")
    return path


class Bodies:
    """The lines of a file written by seal_to_file, handed out one at a time to the creating
    threads (a lock around one shared reader)."""

    def __init__(self, path):
        self.file = open(path)
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            line = self.file.readline()
        return line.rstrip("\n") or None

    def close(self):
        self.file.close()


class Progress:
    """Objects created so far (the creating threads count), for the curves."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def add(self):
        with self.lock:
            self.count += 1


def create_all(api, namespace, bodies_path, clients=8, progress=None):
    """POSTs every body of the file `bodies_path` (seal_to_file) with `clients` parallel
    connections, each taking the next line when it is free; returns the wall time."""
    path = f"{GROUP_PATH}/namespaces/{namespace}/sealedsecrets"
    bodies = Bodies(bodies_path)
    errors = []

    def worker():
        try:
            while not errors:
                body = bodies.next()
                if body is None:
                    return
                api.request("POST", path, body.encode())
                if progress is not None:
                    progress.add()
        except Exception as err:  # reported below, after every thread has stopped
            errors.append(err)

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bodies.close()
    if errors:
        raise errors[0]
    return time.monotonic() - start


class Curve:
    """Time series for the report's plots: objects created and objects Synced, sampled every
    scrape_interval(n) (and at every 1% of N), t in seconds from the start of the creates."""

    def __init__(self, n, phase, progress, t0):
        self.n, self.phase, self.progress, self.t0 = n, phase, progress, t0
        self.interval = scrape_interval(n)
        self.created, self.synced = [], []
        self.controller = None
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def watch(self, controller):
        self.controller = controller

    def sample(self):
        t = round(time.monotonic() - self.t0, 3)
        created = self.progress.count
        if not self.created or self.created[-1][1] != created:
            self.created.append([t, created])
        if self.controller is not None:
            try:
                synced = self.controller.synced()
            except (OSError, RuntimeError, http.client.HTTPException):
                return
            if not self.synced or self.synced[-1][1] != synced:
                self.synced.append([t, synced])

    def run(self):
        step = max(1, self.n // 100)
        last = time.monotonic()
        last_count = -step
        while not self.stop_event.is_set():
            count = self.progress.count
            if time.monotonic() - last >= self.interval or count - last_count >= step:
                self.sample()
                last, last_count = time.monotonic(), count
            self.stop_event.wait(0.1)

    def last_synced(self):
        return self.synced[-1][1] if self.synced else 0

    def finish(self):
        self.stop_event.set()
        self.thread.join()
        self.sample()
        return {"n": self.n, "phase": self.phase, "created": self.created, "synced": self.synced}


def scrape_interval(n):
    """Seconds between two reads of the controller's /metrics while N objects are watched. The
    page has a line per SealedSecret (`sealed_secrets_controller_condition_info`, on by default),
    several MB at 50,000: read twice a second it would cost the controller being measured real
    CPU. 0.5 s up to 12,500 objects, then proportionally longer (2 s at 50,000)."""
    return max(0.5, n / 25000)


def timeout_for(args, n):
    """A phase's time limit: --timeout, or 0.1 s per object when that is longer (5,000 s at
    50,000, where a sync takes several minutes on 2 cores)."""
    return max(args.timeout, 0.1 * n)


def ensure_namespace(api, name):
    body = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    api.request("POST", "/api/v1/namespaces", body.encode(), ok=(201, 409))


def wait_for(what, check, timeout, interval):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic()


def list_pages(api, path, limit=1000):
    """The items of a LIST, a page at a time (limit/continue): at 50,000 objects one response
    would be hundreds of MB in the driver."""
    token = ""
    while True:
        sep = "&" if "?" in path else "?"
        page = api.get_json(f"{path}{sep}limit={limit}" + (f"&continue={urllib.parse.quote(token)}" if token else ""))
        yield from page["items"]
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return


def verify_synced(api, namespace, count):
    """One paged LIST each: every SealedSecret in `namespace` has Synced=True and its Secret exists."""
    synced = sum(1 for i in list_pages(api, f"{GROUP_PATH}/namespaces/{namespace}/sealedsecrets")
                 if any(c.get("type") == "Synced" and c.get("status") == "True"
                        for c in (i.get("status") or {}).get("conditions", [])))
    owned = sum(1 for s in list_pages(api, f"/api/v1/namespaces/{namespace}/secrets")
                if any(o.get("kind") == "SealedSecret" for o in s["metadata"].get("ownerReferences", [])))
    if synced < count or owned < count:
        raise RuntimeError(f"{namespace}: {synced} SealedSecrets Synced and {owned} owned Secrets, expected {count}")
    return synced


def settle_rss(controller, seconds=2.0):
    time.sleep(seconds)
    return controller.rss()


def idle_rss(args, binary, build, cert_path=None):
    """RSS of a controller with keys loaded and nothing to do (an empty namespace)."""
    ctl = Controller(binary, build, args, "bench-idle", f"{args.work}/controller-{build}-idle.log")
    try:
        ready = ctl.wait_ready(args.timeout)
        wait_for("the certificate", lambda: ctl.get(args.api_port, "/v1/cert.pem")[0] == 200, args.timeout, 0.1)
        if cert_path is not None:
            open(cert_path, "wb").write(ctl.cert())
        ctl.metrics()  # a scrape, as Prometheus would make, is part of idle
        rss, hwm = settle_rss(ctl, 3.0)
        return {"build": build, "rss_mib": rss, "hwm_mib": hwm, "ready_s": ready}
    finally:
        ctl.stop()


def restart(args, binary, build, namespace, n):
    """Starts a controller on `namespace` whose n SealedSecrets are all in sync."""
    ctl = Controller(binary, build, args, namespace, f"{args.work}/controller-{build}-restart-{namespace}.log")
    try:
        ready = ctl.wait_ready(timeout_for(args, n))

        def seen():
            return ctl.metric("sealed_secrets_controller_unseal_requests_total") >= n

        # 0.1 s, coarser above 10,000 objects (the page has a line per object: scrape_interval).
        t_seen = wait_for(f"the restarted controller to look at all {n}", seen, timeout_for(args, n),
                          max(0.1, n / 100000))
        cpu_seen = ctl.cpu()
        m = ctl.metrics()
        requests = metric_sum(m, "sealant_kube_requests_total", exclude='verb="watch"')
        rss, hwm = settle_rss(ctl)
        return {
            "build": build, "ready_s": ready, "seen_s": t_seen - ctl.started,
            "rsa_ops": metric_sum(m, 'sealant_unseal_rsa_operations_total{source="reconcile"}'),
            "rss_mib": rss, "hwm_mib": hwm, "cpu_s": ctl.cpu(), "cpu_seen_s": cpu_seen,
            "requests_per_sealedsecret": requests / n,
        }
    finally:
        ctl.stop()


def live_phase(args, api, pids, cert_path, n):
    """N new SealedSecrets created in a burst while the controller runs, then a probe."""
    ns = f"live-{n}"
    ensure_namespace(api, ns)
    log(f"{ns}: sealing {n} + 1 SealedSecrets")
    bodies = seal_to_file(args, cert_path, ns, n, f"{args.work}/{ns}.jsonl")
    probe = seal(args, cert_path, ns, ["probe"])[0]
    timeout = timeout_for(args, n)
    ctl = Controller(args.bin, args.build, args, ns, f"{args.work}/controller-{args.build}-{ns}.log")
    try:
        ctl.wait_ready(timeout)
        m0 = ctl.metrics()
        req0 = metric_sum(m0, "sealant_kube_requests_total", exclude='verb="watch"')
        log(f"{ns}: creating {n} SealedSecrets (8 parallel clients) with the controller running")
        window = Window(api, pids, ctl)
        progress = Progress()
        curve = Curve(n, "live", progress, window.start["t"])
        curve.watch(ctl)
        created_s = create_all(api, ns, bodies, progress=progress)
        t_created = time.monotonic()
        os.remove(bodies)
        api.request("POST", f"{GROUP_PATH}/namespaces/{ns}/sealedsecrets", probe.encode())
        t_probe_created = time.monotonic()

        def probe_synced():
            obj = api.get_json(f"{GROUP_PATH}/namespaces/{ns}/sealedsecrets/probe")
            return any(c.get("type") == "Synced" and c.get("status") == "True"
                       for c in (obj.get("status") or {}).get("conditions", []))

        t_probe = wait_for("the probe SealedSecret", probe_synced, timeout, 0.05)
        t_all = wait_for(f"{n} SealedSecrets Synced", lambda: curve.last_synced() >= n + 1, timeout, 0.05)
        sync = window.finish()
        curve_points = curve.finish()
        verify_synced(api, ns, n + 1)
        m1 = ctl.metrics()
        req1 = metric_sum(m1, "sealant_kube_requests_total", exclude='verb="watch"')
        by_verb = {re.search(r'verb="([^"]+)"', k).group(1): v for k, v in m1.items()
                   if k.startswith("sealant_kube_requests_total{") and 'verb="watch"' not in k}
        rss, hwm = settle_rss(ctl)
        result = {
            "n": n, "namespace": ns, "creates_s": created_s,
            "create_rate_per_s": n / created_s,
            "synced_s": t_all - window.start["t"],
            "probe_create_s": t_probe_created - t_created,
            "probe_synced_s": t_probe - t_created,
            "window": sync,
            "controller_requests": req1 - req0,
            "requests_per_sealedsecret": (req1 - req0) / (n + 1),
            "requests_by_verb": by_verb,
            "rss_mib": rss, "hwm_mib": hwm,
            "rsa_ops": metric_sum(m1, 'sealant_unseal_rsa_operations_total{source="reconcile"}'),
            "curve": curve_points,
        }
    finally:
        ctl.stop()
    log(f"{ns}: restarting with {n + 1} in sync ({args.build}, then {args.other_build})")
    result["restart"] = restart(args, args.bin, args.build, ns, n + 1)
    result["restart_other"] = restart(args, args.other_bin, args.other_build, ns, n + 1)
    return result


def probe_synced(api, ns, name):
    obj = api.get_json(f"{GROUP_PATH}/namespaces/{ns}/sealedsecrets/{name}")
    return any(c.get("type") == "Synced" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions", []))


def backlog_phase(args, api, pids, cert_path, n, ns=None):
    """N SealedSecrets created while no controller watches, then the controller starts; once it
    is ready (its initial list done), one newcomer is created: its time to Synced, and how many
    of the N were still not Synced then (new objects first)."""
    ns = ns or f"backlog-{n}"
    ensure_namespace(api, ns)
    log(f"{ns}: sealing {n} SealedSecrets")
    bodies = seal_to_file(args, cert_path, ns, n, f"{args.work}/{ns}.jsonl")
    newcomer = seal(args, cert_path, ns, ["newcomer"])[0]
    timeout = timeout_for(args, n)
    log(f"{ns}: creating {n} SealedSecrets (8 parallel clients) with no controller watching")
    window = Window(api, pids)
    progress = Progress()
    curve = Curve(n, "backlog", progress, window.start["t"])
    created_s = create_all(api, ns, bodies, progress=progress)
    os.remove(bodies)
    create_window = window.finish()
    log(f"{ns}: {n} created in {created_s:.1f} s ({n / created_s:,.0f}/s); starting the controller on the backlog")
    window = Window(api, pids)
    ctl = Controller(args.bin, args.build, args, ns, f"{args.work}/controller-{args.build}-{ns}.log")
    curve.watch(ctl)
    try:
        ready = ctl.wait_ready(timeout)
        m0 = ctl.metrics()
        req0 = metric_sum(m0, "sealant_kube_requests_total", exclude='verb="watch"')
        api.request("POST", f"{GROUP_PATH}/namespaces/{ns}/sealedsecrets", newcomer.encode())
        t_newcomer = time.monotonic()
        t_newcomer_synced = wait_for("the newcomer SealedSecret", lambda: probe_synced(api, ns, "newcomer"),
                                     timeout, 0.05)
        # The newcomer counts among the Synced ones.
        backlog_waiting = max(0, n - (ctl.synced() - 1))
        log(f"{ns}: newcomer Synced after {t_newcomer_synced - t_newcomer:.2f} s, "
            f"{backlog_waiting} of {n} still waiting")
        t_all = wait_for(f"{n} SealedSecrets Synced", lambda: curve.last_synced() >= n + 1, timeout, 0.05)
        sync = window.finish(ctl)
        log(f"{ns}: all {n} Synced {t_all - ctl.started:.1f} s after the start "
            f"({(t_all - ctl.started) / n * 1000:.1f} s per 1,000)")
        curve_points = curve.finish()
        verified = verify_synced(api, ns, n + 1)
        m1 = ctl.metrics()
        req1 = metric_sum(m1, "sealant_kube_requests_total", exclude='verb="watch"')
        rss, hwm = settle_rss(ctl)
        return {
            "verified_synced": verified, "metrics_poll_s": scrape_interval(n),
            "n": n, "namespace": ns, "creates_s": created_s, "create_rate_per_s": n / created_s,
            "create_window": create_window,
            "ready_s": ready, "synced_s": t_all - ctl.started, "window": sync,
            "newcomer_synced_s": t_newcomer_synced - t_newcomer,
            "newcomer_backlog_waiting": backlog_waiting,
            "requests_per_sealedsecret": (req1 - req0) / (n + 1),
            "rss_mib": rss, "hwm_mib": hwm,
            "rsa_ops": metric_sum(m1, 'sealant_unseal_rsa_operations_total{source="reconcile"}'),
            # The decryptions' own CPU time (thread CPU), the floor under the same load.
            "unseal_cpu_s": metric_sum(m1, "sealant_unseal_cpu_seconds_total"),
            "curve": curve_points,
        }
    finally:
        ctl.stop()


def load_main(argv):
    """`controller.py load`: N new SealedSecrets for a controller started by someone else
    (bench/profile.sh, under a profiler); prints the sync time."""
    parser = argparse.ArgumentParser(prog="controller.py load")
    parser.add_argument("--cluster-dir", required=True)
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--sealant", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("-n", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=1200)
    args = parser.parse_args(argv)
    api = Api(args.cluster_dir)
    ensure_namespace(api, args.namespace)
    bodies = seal_to_file(args, args.cert, args.namespace, args.n, f"{args.cert}.{args.namespace}.jsonl")
    metrics_port = args.metrics_port

    def synced():
        conn = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=30)
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode()
        key = f'sealant_sealedsecrets{{namespace="{args.namespace}",condition="Synced",status="True"}} '
        return sum(int(float(line[len(key):])) for line in body.splitlines() if line.startswith(key))

    start = time.monotonic()
    created = create_all(api, args.namespace, bodies)
    os.remove(bodies)
    done = wait_for(f"{args.n} Synced", lambda: synced() >= args.n, args.timeout, 0.5)
    verify_synced(api, args.namespace, args.n)
    log(f"{args.n} created in {created:.1f} s, all Synced after {done - start:.1f} s")


def main():
    if sys.argv[1:2] == ["load"]:
        load_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--cluster-dir", required=True)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--bin", required=True, help="the deployed (static musl) controller")
    parser.add_argument("--build", default="musl")
    parser.add_argument("--other-bin", required=True, help="the glibc controller")
    parser.add_argument("--other-build", default="glibc")
    parser.add_argument("--sealant", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--api-port", type=int, required=True)
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--sizes", required=True, help="comma-separated N")
    parser.add_argument("--no-backlog", action="store_true")
    parser.add_argument("--large", type=int, default=0,
                        help="also a backlog of this many (full runs: 50000), deployed build only")
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()

    api = Api(args.cluster_dir)
    pids = {}
    for name in ("kube-apiserver", "etcd", "kube-controller-manager"):
        pids[name] = int(open(f"{args.cluster_dir}/pids/{name}").read().split()[0])
    ensure_namespace(api, "bench")
    ensure_namespace(api, "bench-idle")
    cert_path = f"{args.work}/cert.pem"
    result = {"sizes": [int(s) for s in args.sizes.split(",")], "deployed_build": args.build, "builds": {
        args.build: {"binary": args.bin}, args.other_build: {"binary": args.other_bin}}}
    for path_key, binary in ((args.build, args.bin), (args.other_build, args.other_bin)):
        result["builds"][path_key]["size_mib"] = os.path.getsize(binary) / 2**20
    log(f"idle RSS: {args.build}, then {args.other_build}")
    result["idle"] = [idle_rss(args, args.bin, args.build, cert_path),
                      idle_rss(args, args.other_bin, args.other_build)]
    result["runs"] = []
    for n in result["sizes"]:
        run = {"n": n, "live": live_phase(args, api, pids, cert_path, n)}
        if not args.no_backlog:
            run["backlog"] = backlog_phase(args, api, pids, cert_path, n)
        result["runs"].append(run)
    if args.large:
        result["large"] = large_phase(args, api, pids, cert_path, args.large)
    result["curves"], result["rss_points"] = curves_and_rss(result)
    open(args.json, "w").write(json.dumps(result, indent=2))


def large_phase(args, api, pids, cert_path, n):
    """The backlog phase at a large N (bench/run.sh full: 50,000), then a restart, with the
    deployed build only: backlog → all Synced, the newcomer behind the backlog, API requests per
    object, the controller's CPU seconds and RSS; then the restart: ready, all looked at, RSA
    operations (expected 0), RSS. Its own namespace, so it may repeat one of --sizes."""
    run = backlog_phase(args, api, pids, cert_path, n, ns=f"large-{n}")
    log(f"large-{n}: restarting with {n + 1} in sync ({args.build})")
    run["restart"] = restart(args, args.bin, args.build, run["namespace"], n + 1)
    return run


def curves_and_rss(result):
    """The report's plots: every phase's curve (moved out of the phases), and per N the highest
    RSS of the deployed build (after sync, after restart, after backlog)."""
    curves, rss = [], {}
    phases = []
    for run in result["runs"]:
        phases += [run["live"], run.get("backlog")]
    phases.append(result.get("large"))
    for phase in filter(None, phases):
        if "curve" in phase:
            curves.append(phase.pop("curve"))
        figures = [phase["rss_mib"]]
        if phase.get("restart", {}).get("build") == result.get("deployed_build"):
            figures.append(phase["restart"]["rss_mib"])
        rss[phase["n"]] = max([rss.get(phase["n"], 0.0)] + figures)
    return curves, [[n, round(v, 1)] for n, v in sorted(rss.items())]


if __name__ == "__main__":
    main()
