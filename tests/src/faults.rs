//! Tools for the fault and hostile-input tests: a raw HTTP/1.1 client that can send any bytes
//! (oversized, slow, malformed), signals to processes, and a private control plane that a test
//! may restart or freeze without disturbing the other tests sharing the suite's cluster.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::{TestCluster, repo_file};

/// One HTTP response, read until the server closed the connection.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, as received (the API answers with small fixed bodies, never chunked).
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text (lossy).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header called `name` (lower case).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request with `Content-Length`, `Connection: close` and `extra` headers.
#[must_use]
pub fn request(method: &str, path: &str, extra: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: sealant\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A POST of `body` to `path` on `addr`.
pub async fn post(addr: &str, path: &str, body: &[u8]) -> anyhow::Result<Reply> {
    send_raw(addr, request("POST", path, &[], body), None).await
}

/// Sends `bytes` to `addr` and reads the response until the server closes the connection.
/// With `pause`, the request is sent in two halves with `pause` in between (a slow client).
/// A write that fails because the server already answered and closed is not an error: the
/// answer is what the test wants. The answer (head and body) is checked for the leak canary
/// ([`crate::canary`]), whatever was sent: no answer may echo a sealed value.
pub async fn send_raw(
    addr: &str,
    bytes: Vec<u8>,
    pause: Option<(usize, Duration)>,
) -> anyhow::Result<Reply> {
    let addr = addr.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Reply> {
        let timeout = Duration::from_secs(60);
        let mut stream = TcpStream::connect_timeout(&addr.parse()?, Duration::from_secs(10))
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let (first, rest) = match pause {
            Some((at, _)) => bytes.split_at(at.min(bytes.len())),
            None => (bytes.as_slice(), &[][..]),
        };
        // Errors writing are ignored on purpose: a server that refuses early (413) may close
        // before the whole body is sent; what it answered is still readable.
        let _ = stream.write_all(first);
        if let Some((_, wait)) = pause {
            std::thread::sleep(wait);
            let _ = stream.write_all(rest);
        }
        let mut response = Vec::new();
        if let Err(err) = stream.read_to_end(&mut response)
            && response.is_empty()
        {
            return Err(err).context("reading the response");
        }
        crate::canary::check_bytes(&format!("HTTP answer from {addr}"), &response)?;
        parse_reply(&response)
    })
    .await?
}

/// Parses a `Connection: close` HTTP/1.1 response.
///
/// # Errors
/// When the bytes are not a response.
pub fn parse_reply(bytes: &[u8]) -> anyhow::Result<Reply> {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers in the response")?;
    let head = std::str::from_utf8(&bytes[..split]).context("response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    })
}

/// Sends `signal` (a `kill -s` name: `KILL`, `STOP`, `CONT`, `TERM`, `USR1`) to `pid`.
///
/// # Errors
/// When `kill` fails (say, the process is gone).
pub fn signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill -s {signal} {pid} failed: {status}");
    }
    Ok(())
}

/// A control plane of the test's own (`tests/cluster/up.sh` in a temp dir), for faults that
/// would disturb other tests on the shared one: restarting or freezing kube-apiserver or etcd.
/// Torn down (`down.sh`) when dropped.
pub struct PrivateCluster {
    dir: PathBuf,
    /// The admin client for it.
    pub cluster: TestCluster,
}

impl std::fmt::Debug for PrivateCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateCluster")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl PrivateCluster {
    /// Starts one (5–10 s on the test machine; the binaries are already built by then).
    ///
    /// # Errors
    /// When `up.sh` fails.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(crate::unique_name("sealant-private-cluster"));
        let script = repo_file("tests/cluster/up.sh");
        let dir_arg = dir.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("bash")
                .arg(script)
                .arg(&dir_arg)
                .stdin(Stdio::null())
                .output()
        })
        .await??;
        // Set `dir` first, so a failure below still tears down what was started.
        let this_dir = dir.clone();
        let guard = DownGuard(Some(this_dir));
        if !output.status.success() {
            bail!(
                "up.sh {} failed: {}",
                dir.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let kubeconfig = PathBuf::from(String::from_utf8(output.stdout)?.trim());
        let cluster = TestCluster::from_kubeconfig(&kubeconfig).await?;
        std::mem::forget(guard);
        Ok(Self { dir, cluster })
    }

    /// The cluster's state directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pid `up.sh` recorded for `component` (`etcd`, `kube-apiserver`, …).
    ///
    /// # Errors
    /// When the pid file is missing or malformed.
    pub fn pid(&self, component: &str) -> anyhow::Result<u32> {
        let path = self.dir.join("pids").join(component);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        text.split_whitespace()
            .next()
            .and_then(|pid| pid.parse().ok())
            .with_context(|| format!("{} holds no pid", path.display()))
    }

    /// Stops `component` (SIGTERM, SIGKILL after 20 s) and starts it again with the very same
    /// command line (same ports, certificates and data directory), recording the new pid where
    /// `down.sh` looks for it. Does not wait for it to be ready.
    ///
    /// # Errors
    /// When the process cannot be read, stopped or started.
    pub fn restart(&self, component: &str) -> anyhow::Result<()> {
        let pid = self.pid(component)?;
        let argv: Vec<String> = std::fs::read(format!("/proc/{pid}/cmdline"))?
            .split(|b| *b == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect();
        let (program, args) = argv.split_first().context("empty command line")?;
        signal(pid, "TERM")?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while alive(pid) {
            if Instant::now() > deadline {
                signal(pid, "KILL")?;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.dir.join("logs").join(format!("{component}.log")))?;
        let child = {
            use std::os::unix::process::CommandExt as _;
            Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::from(log.try_clone()?))
                .stderr(Stdio::from(log))
                // Its own process group, like up.sh's setsid: the test's signals stay away.
                .process_group(0)
                .spawn()
                .with_context(|| format!("starting {component} again"))?
        };
        let new_pid = child.id();
        // The child outlives this handle; down.sh stops it by the recorded pid.
        drop(child);
        let start_time = proc_start_time(new_pid)?;
        std::fs::write(
            self.dir.join("pids").join(component),
            format!("{new_pid} {start_time}\n"),
        )?;
        Ok(())
    }
}

/// True while `pid` exists and is not a zombie.
#[must_use]
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("State:"))
            .is_some_and(|state| !state.trim_start().starts_with('Z'))
    })
}

/// Field 22 of `/proc/PID/stat`, as `tests/cluster/lib.sh` records it.
fn proc_start_time(pid: u32) -> anyhow::Result<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest)
        .context("malformed /proc stat")?;
    rest.split_whitespace()
        .nth(19)
        .map(str::to_owned)
        .context("no start time in /proc stat")
}

struct DownGuard(Option<PathBuf>);

impl Drop for DownGuard {
    fn drop(&mut self) {
        let Some(dir) = self.0.take() else { return };
        let status = Command::new("bash")
            .arg(repo_file("tests/cluster/down.sh"))
            .arg(&dir)
            .stdin(Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("warning: tearing down {} failed", dir.display());
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        drop(DownGuard(Some(self.dir.clone())));
    }
}

/// Everything the controller and the cluster said that a canary must not be in: kept as text
/// so a failing assertion can show where it was found.
#[must_use]
pub fn find_canary<'a>(
    canaries: &[&str],
    sources: &'a [(String, String)],
) -> Vec<(&'a str, String)> {
    let mut found = Vec::new();
    for (name, text) in sources {
        for canary in canaries {
            if let Some(at) = text.find(canary) {
                let start = text[..at]
                    .char_indices()
                    .rev()
                    .nth(80)
                    .map_or(0, |(i, _)| i);
                let end = (at + canary.len() + 80).min(text.len());
                let end = (end..=text.len())
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(text.len());
                found.push((name.as_str(), text[start..end].to_owned()));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_status_headers_and_body() {
        let reply = parse_reply(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nX-RateLimit-Limit: 2\r\n\r\nlimit exceeded\n",
        )
        .expect("a response");
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert_eq!(reply.header("x-ratelimit-limit"), Some("2"));
        assert_eq!(reply.text(), "limit exceeded\n");
        assert!(parse_reply(b"garbage").is_err());
    }

    #[test]
    fn requests_carry_the_body_length() {
        let bytes = request("POST", "/v1/verify", &[("X-A", "b")], b"abc");
        let text = String::from_utf8(bytes).expect("ascii");
        assert!(text.starts_with("POST /v1/verify HTTP/1.1\r\n"), "{text}");
        assert!(text.contains("Content-Length: 3\r\n"), "{text}");
        assert!(text.ends_with("X-A: b\r\n\r\nabc"), "{text}");
    }

    #[test]
    fn canaries_are_found_with_context() {
        let sources = vec![
            (
                "log".to_owned(),
                "quiet line\nvalue=CANARY-1 leaked".to_owned(),
            ),
            ("events".to_owned(), "nothing here".to_owned()),
        ];
        let found = find_canary(&["CANARY-1", "CANARY-2"], &sources);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "log");
        assert!(found[0].1.contains("value=CANARY-1"), "{:?}", found[0]);
    }

    #[test]
    fn this_process_is_alive_and_has_a_start_time() {
        let pid = std::process::id();
        assert!(alive(pid));
        assert!(proc_start_time(pid).expect("stat").parse::<u64>().is_ok());
    }
}
