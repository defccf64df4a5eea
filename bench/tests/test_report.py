"""bench/report.py and bench/figures.py on a small fixture: the pictures, the comparison with
published figures, the age target.

    python3 -m unittest discover -s bench/tests      # bench/run.sh runs it first

Needs matplotlib (bench/setup.sh installs the pinned version).
"""

import copy
import json
import pathlib
import sys
import tempfile
import unittest

BENCH = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

import figures  # noqa: E402
import report  # noqa: E402


def window():
    return {"wall_s": 10.0, "cores": 2, "machine_busy": 0.9, "api_requests": 4000.0,
            "api_requests_per_s": 400.0,
            "cpu_s": {"controller": 5.0, "kube-apiserver": 6.0, "etcd": 2.0,
                      "everything else on the machine": 0.1}}


def run(n):
    restart = {"ready_s": 0.5, "seen_s": 0.6, "rsa_ops": 0, "rss_mib": 20.0, "hwm_mib": 25.0}
    return {"n": n, "live": {
        "creates_s": 4.0, "create_rate_per_s": n / 4.0, "synced_s": n / 100.0, "probe_synced_s": 1.5,
        "requests_per_sealedsecret": 4.0, "requests_by_verb": {"create": 2 * n, "get": n, "patch": n},
        "restart": restart, "restart_other": dict(restart), "rss_mib": 22.0 + n / 1000, "hwm_mib": 23.0,
        "window": window()}}


def controller(curves=True, rss=True):
    c = {
        "kubernetes": "v1.20.2",
        "builds": {"static musl (deployed)": {"size_mib": 14.4}, "glibc": {"size_mib": 14.3}},
        "idle": [{"build": "static musl (deployed)", "rss_mib": 11.5}, {"build": "glibc", "rss_mib": 13.0}],
        "runs": [run(1000), run(5000)],
    }
    if curves:
        c["curves"] = [
            {"n": 5000, "phase": "live", "created": [[0, 0], [10, 2500], [22, 5000]],
             "synced": [[0, 0], [12, 1000], [30, 4000], [50, 5000]]},
            {"n": 5000, "phase": "backlog", "created": [[0, 5000]], "synced": [[0, 0], [42, 5000]]},
            {"n": 1000, "phase": "live", "created": [[0, 0], [4, 1000]], "synced": [[0, 0], [9, 1000]]},
        ]
    if rss:
        c["rss_points"] = [[0, 11.5], [1000, 22.6], [5000, 58.7]]
    return c


def crypto(open_ratio):
    age = {}
    for group in ("age_x25519", "age_pq"):
        for op, ratio in (("seal", 1.6), ("open", open_ratio)):
            age[f"{group}/{op}"] = {"ours_us": 30.0 * ratio, "raw_us": {"aws-lc-rs": 30.0},
                                    "fastest_raw_us": 30.0, "fastest_lib": "aws-lc-rs",
                                    "openssl_us": None, "ratio": ratio}
    rsa = {}
    for bits in (2048, 4096):
        for fn in ("seal", "unseal_ring1", "unseal_ring5_hinted", "unseal_ring5_last_nohint"):
            rsa[f"rsa{bits}/{fn}"] = {"label": fn, "bits": bits, "ours_us": 100.0, "raw_us": 100.0,
                                      "openssl_us": 100.0, "ratio_raw": 1.0, "ratio_openssl": 1.0}
    return {"mode": "quick", "rounds": {"rsa2048": 10, "age_x25519": 10}, "rsa": rsa, "age": age,
            "openssl_x25519_us": 30.0, "openssl_version": "OpenSSL 3.0"}


MACHINE = {"date": "2026-12-06 20:00 UTC", "mode": "quick", "command": "bash bench/run.sh --quick",
           "cpu": "test CPU", "cores": 2, "memory": "1.0 GiB", "kernel": "6", "rustc": "rustc",
           "openssl": "OpenSSL 3.0", "timer": "hyperfine", "revision": "abc", "duration_s": 60,
           "probes": [{"section": "crypto", "busy_cores": 0.01, "loadavg": "0 0 0"}]}


class Report(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, ctl, crypto_data=None):
        data = self.dir / "data"
        data.mkdir(exist_ok=True)
        (data / "machine.json").write_text(json.dumps(MACHINE))
        (data / "controller.json").write_text(json.dumps(ctl))
        if crypto_data is not None:
            (data / "crypto.json").write_text(json.dumps(crypto_data))
        return data

    def test_pictures_are_drawn_next_to_the_report_and_embedded(self):
        (self.dir / "out").mkdir()
        text = report.full(self.write(controller()), self.dir / "out" / "benchmarks.md")
        sync = self.dir / "out" / "benchmarks-sync.svg"
        rss = self.dir / "out" / "benchmarks-rss.svg"
        self.assertTrue(sync.read_text().startswith("<?xml"))
        self.assertIn("<svg", rss.read_text())
        self.assertIn("](benchmarks-sync.svg)", text)
        self.assertIn("](benchmarks-rss.svg)", text)
        # The fixture has no 50,000 run: the report says so rather than drawing nothing silently.
        self.assertIn("No curve for N = 50,000", text)
        self.assertNotIn("No curve for N = 5,000", text)

    def test_svg_output_is_deterministic(self):
        first, second = self.dir / "a.svg", self.dir / "b.svg"
        self.assertEqual(figures.draw_sync(controller(), first), [5000])
        self.assertEqual(figures.draw_sync(controller(), second), [5000])
        self.assertEqual(first.read_bytes(), second.read_bytes())
        self.assertNotIn("<dc:date>", first.read_text())
        self.assertEqual(figures.draw_rss(controller(), first), 3)
        self.assertEqual(figures.draw_rss(controller(), second), 3)
        self.assertEqual(first.read_bytes(), second.read_bytes())

    def test_different_data_draws_a_different_picture(self):
        other = copy.deepcopy(controller())
        other["curves"][0]["synced"][-1] = [70, 5000]
        first, second = self.dir / "a.svg", self.dir / "b.svg"
        figures.draw_sync(controller(), first)
        figures.draw_sync(other, second)
        self.assertNotEqual(first.read_bytes(), second.read_bytes())

    def test_missing_curves_are_said_and_not_drawn(self):
        (self.dir / "out").mkdir()
        text = report.full(self.write(controller(curves=False, rss=False)), self.dir / "out" / "b.md")
        self.assertIn("No sync curve: this run's controller data has no `curves`.", text)
        self.assertIn("No RSS curve: this run's controller data has no `rss_points`.", text)
        self.assertEqual(list((self.dir / "out").iterdir()), [])

    def test_published_figures_stand_beside_ours_with_their_sources(self):
        text = report.full(self.write(controller()))
        section = text[text.index("## Beside published figures"):]
        for source in ("bitnami-labs/sealed-secrets#1833", "bitnami-labs/sealed-secrets#1289",
                       "#2625, #3459, #4180", "cert-manager/cert-manager#3748"):
            self.assertIn(source, section)
        self.assertIn("| sealant | 5,000 SealedSecrets, created while it runs | 50.0 s | 1.5 s | 58.7 MiB RSS "
                      "| this run |", section)
        ctl = controller()
        ctl["large"] = large(rss=200.0, restart_rss=150.0)
        ctl["large"].update(synced_s=400.0, newcomer_synced_s=12.0)
        ctl["rss_points"].append([50000, 210.0])
        text = report.full(self.write(ctl))
        self.assertIn("| sealant | 50,000 SealedSecrets, a backlog at start | 400.0 s | 12.0 s | 210.0 MiB RSS "
                      "| this run |", text)
        # Without a report path no picture is drawn (nothing to put it next to).
        self.assertNotIn("### Pictures", text)

    def test_age_open_target(self):
        text = report.full(self.write(controller(), crypto(1.2)))
        self.assertIn("| age item open ≤ 1.5× its raw primitives (X25519) | 1.20×", text)
        self.assertRegex(text, r"age item open .*\(X25519\) \| 1\.20× .* \| \*\*met\*\* \|")
        text = report.full(self.write(controller(), crypto(3.2)))
        self.assertRegex(text, r"age item open .*\(post-quantum .*\) \| 3\.20× .* \| \*\*not met\*\* \|")


def backlog(n, newcomer_s=1.5, controller_cpu_s=25.0):
    w = window()
    w["cpu_s"] = dict(w["cpu_s"], controller=controller_cpu_s)
    return {"n": n, "namespace": f"backlog-{n}", "creates_s": 20.0, "create_rate_per_s": n / 20.0,
            "create_window": window(), "ready_s": 1.0, "synced_s": n / 120.0, "window": w,
            "newcomer_synced_s": newcomer_s, "newcomer_backlog_waiting": n - 100,
            "requests_per_sealedsecret": 3.0, "rss_mib": 50.0, "hwm_mib": 55.0, "rsa_ops": 3 * n,
            "verified_synced": n + 1}


def large(n=50000, rss=100.0, restart_rss=90.0, rsa_ops=0, verified=None):
    b = backlog(n, newcomer_s=0.8, controller_cpu_s=260.0)
    b.update(namespace=f"large-{n}", synced_s=500.0, rss_mib=rss, hwm_mib=rss + 5,
             verified_synced=n + 1 if verified is None else verified)
    b["restart"] = {"build": "static musl (deployed)", "ready_s": 3.0, "seen_s": 20.0, "rsa_ops": rsa_ops,
                    "rss_mib": restart_rss, "hwm_mib": restart_rss + 5, "cpu_s": 12.0, "cpu_seen_s": 10.0,
                    "requests_per_sealedsecret": 0.01}
    return b


def floor_crypto(raw_us=1400.0):
    c = crypto(1.2)
    c["rsa"]["rsa4096/unseal_ring1"]["raw_us"] = raw_us
    return c


def target_row(text, start):
    """The targets table's row whose first cell starts with `start`: (measured, verdict)."""
    for line in text.splitlines():
        if line.startswith(f"| {start}"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            return cells[1], cells[2]
    raise AssertionError(f"no target row starting with {start!r}")


class Targets(unittest.TestCase):
    """The targets of the large phase and of the backlog phase at 5,000."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def text(self, ctl, crypto_data=None):
        data = self.dir / "data"
        data.mkdir(exist_ok=True)
        (data / "machine.json").write_text(json.dumps(MACHINE))
        (data / "controller.json").write_text(json.dumps(ctl))
        (data / "crypto.json").unlink(missing_ok=True)
        if crypto_data is not None:
            (data / "crypto.json").write_text(json.dumps(crypto_data))
        return report.full(data)

    def with_backlog(self, **kw):
        ctl = controller()
        ctl["runs"][1]["backlog"] = backlog(5000, **kw)
        return ctl

    def test_large_rss_and_sync_met(self):
        ctl = self.with_backlog()
        ctl["large"] = large(rss=100.0, restart_rss=110.0)
        text = self.text(ctl)
        measured, verdict = target_row(text, "RSS ≤ 120 MiB at 50,000")
        self.assertEqual((measured, verdict), ("110.0 MiB (after backlog 100.0, after restart 110.0)", "**met**"))
        measured, verdict = target_row(text, "50,000 SealedSecrets: backlog → all Synced")
        self.assertIn("all Synced 500.0 s after the start (10.00 s per 1,000)", measured)
        self.assertIn("all looked at 20.00 s, 0 RSA operations", measured)
        self.assertEqual(verdict, "**met**")
        self.assertIn("### A backlog of 50,000", text)

    def test_large_rss_and_sync_not_met(self):
        ctl = self.with_backlog()
        ctl["large"] = large(rss=100.0, restart_rss=130.0, rsa_ops=150000)
        text = self.text(ctl)
        self.assertEqual(target_row(text, "RSS ≤ 120 MiB at 50,000")[1], "**not met**")
        measured, verdict = target_row(text, "50,000 SealedSecrets: backlog → all Synced")
        self.assertIn("150,000 RSA operations", measured)
        self.assertEqual(verdict, "**not met**")
        ctl["large"] = large(verified=40000)
        measured, verdict = target_row(self.text(ctl), "50,000 SealedSecrets: backlog → all Synced")
        self.assertIn("40,000 of 50,001 Synced", measured)
        self.assertEqual(verdict, "**not met**")

    def test_large_targets_not_measured_without_the_large_phase(self):
        text = self.text(self.with_backlog())
        for start in ("RSS ≤ 120 MiB at 50,000", "50,000 SealedSecrets: backlog → all Synced"):
            measured, verdict = target_row(text, start)
            self.assertTrue(measured.startswith("not measured (this run had no large phase"), measured)
            self.assertEqual(verdict, "—")
        ctl = self.with_backlog()
        ctl["large"] = large(n=1500)
        measured, verdict = target_row(self.text(ctl), "RSS ≤ 120 MiB at 50,000")
        self.assertTrue(measured.startswith("not measured (this run's large phase had N = 1,500"), measured)
        self.assertEqual(verdict, "—")

    def test_newcomer_behind_the_backlog(self):
        measured, verdict = target_row(self.text(self.with_backlog(newcomer_s=1.5)), "a newcomer behind a 5,000")
        self.assertEqual((measured, verdict), ("1.50 s (4,900 of 5,000 still waiting then)", "**met**"))
        self.assertEqual(target_row(self.text(self.with_backlog(newcomer_s=2.5)), "a newcomer behind a 5,000")[1],
                         "**not met**")
        measured, verdict = target_row(self.text(controller()), "a newcomer behind a 5,000")
        self.assertEqual((measured, verdict), ("not measured (this run had no backlog phase)", "—"))
        quick = controller()
        quick["runs"] = [run(50)]
        measured, verdict = target_row(self.text(quick), "a newcomer behind a 5,000")
        self.assertEqual((measured, verdict), ("not measured (this run had no N = 5,000)", "—"))

    def test_cpu_against_the_rsa_floor(self):
        # 25.0 CPU s for 5,001 SealedSecrets = 4.999 ms against 3 × 1,400 µs = 4.2 ms: 1.19×.
        text = self.text(self.with_backlog(controller_cpu_s=25.0), floor_crypto(1400.0))
        measured, verdict = target_row(text, "controller CPU per new SealedSecret ≤ 1.25×")
        self.assertTrue(measured.startswith("1.19× (5.00 ms / 4.20 ms"), measured)
        self.assertEqual(verdict, "**met**")
        self.assertIn("over the backlog sync: N = 5,000: **1.19×**", text)
        text = self.text(self.with_backlog(controller_cpu_s=40.0), floor_crypto(1400.0))
        measured, verdict = target_row(text, "controller CPU per new SealedSecret ≤ 1.25×")
        self.assertTrue(measured.startswith("1.90×"), measured)
        self.assertEqual(verdict, "**not met**")
        text = self.text(self.with_backlog(controller_cpu_s=25.0))
        measured, verdict = target_row(text, "controller CPU per new SealedSecret ≤ 1.25×")
        self.assertTrue(measured.startswith("not measured (the crypto section did not run"), measured)
        self.assertEqual(verdict, "—")
        self.assertIn("is not set against its RSA floor", text)

    def test_cpu_against_the_decryptions_own_cpu(self):
        # 25.0 CPU s for 5,001 SealedSecrets = 4.999 ms against 22.0 s of decryption = 4.399 ms: 1.14×,
        # whatever the quiet crypto floor says (here 1.19×).
        ctl = self.with_backlog(controller_cpu_s=25.0)
        ctl["runs"][1]["backlog"]["unseal_cpu_s"] = 22.0
        text = self.text(ctl, floor_crypto(1400.0))
        measured, verdict = target_row(text, "controller CPU per new SealedSecret ≤ 1.25×")
        self.assertTrue(measured.startswith("1.14× (5.00 ms / 4.40 ms of decryption"), measured)
        self.assertIn("quiet raw decrypts: 4.20 ms, 1.19×", measured)
        self.assertEqual(verdict, "**met**")
        self.assertIn("N = 5,000: **1.14×** (4.40 ms of decryption per SealedSecret)", text)
        # Without the crypto section the in-controller floor still decides.
        ctl["runs"][1]["backlog"]["unseal_cpu_s"] = 12.0
        measured, verdict = target_row(self.text(ctl), "controller CPU per new SealedSecret ≤ 1.25×")
        self.assertTrue(measured.startswith("2.08×"), measured)
        self.assertEqual(verdict, "**not met**")

    def test_idle_target_kept(self):
        self.assertEqual(target_row(self.text(controller()), "RSS ≤ 12 MiB idle (static musl (deployed)")[1],
                         "**met**")

    def test_the_large_curve_and_rss_point_are_drawn(self):
        ctl = self.with_backlog()
        ctl["large"] = large()
        ctl["curves"].append({"n": 50000, "phase": "backlog", "created": [[0, 0], [100, 25000], [200, 50000]],
                              "synced": [[200, 0], [450, 30000], [700, 50001]]})
        ctl["rss_points"].append([50000, 110.0])
        (self.dir / "out").mkdir()
        data = self.dir / "data"
        data.mkdir()
        (data / "machine.json").write_text(json.dumps(MACHINE))
        (data / "controller.json").write_text(json.dumps(ctl))
        text = report.full(data, self.dir / "out" / "b.md")
        self.assertIn("N = 5,000 and 50,000:", text)
        self.assertNotIn("No curve for N = 50,000", text)
        self.assertIn("(4 points,", text)
        without = self.dir / "without.svg"
        figures.draw_sync(controller(), without)
        self.assertNotEqual((self.dir / "out" / "b-sync.svg").read_bytes(), without.read_bytes())


if __name__ == "__main__":
    unittest.main()
