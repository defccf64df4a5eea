//! The `sealant` CLI run as users run it: the built binary in a child process, whose stdout and
//! stderr (and so its panic messages) are captured and checked for the leak canary
//! ([`crate::canary`]). `tests/e2e.sh` builds the binary and names it in [`CLI_BIN_ENV`].
//! [`sealant_keys`] runs `sealant keys …` in-process instead, for tests that need its typed
//! errors.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

use anyhow::Context as _;

/// Environment variable naming the `sealant` binary; `tests/e2e.sh` sets it.
pub const CLI_BIN_ENV: &str = "SEALANT_CLI_BIN";

/// What one run printed, and how it ended.
#[derive(Debug)]
pub struct CliOutput {
    /// How it exited (`None` code: killed by a signal).
    pub status: ExitStatus,
    /// Everything on stdout (lossy UTF-8).
    pub stdout: String,
    /// Everything on stderr (lossy UTF-8).
    pub stderr: String,
}

impl CliOutput {
    /// The exit code, `None` when killed by a signal.
    #[must_use]
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// A `sealant` command line to run.
#[derive(Debug)]
pub struct Sealant {
    command: Command,
    stdin: Option<Vec<u8>>,
    stdout_is_plaintext: bool,
}

impl Sealant {
    /// `sealant ARGS…`.
    ///
    /// # Errors
    /// When [`CLI_BIN_ENV`] is not set.
    pub fn new<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> anyhow::Result<Self> {
        let binary = std::env::var_os(CLI_BIN_ENV).with_context(|| {
            format!("{CLI_BIN_ENV} is not set: run the e2e suite with `bash tests/e2e.sh`")
        })?;
        let mut command = Command::new(binary);
        command.args(args);
        Ok(Self {
            command,
            stdin: None,
            stdout_is_plaintext: false,
        })
    }

    /// Feeds `bytes` on stdin (otherwise stdin is empty).
    #[must_use]
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// For commands whose job is to print plaintext (recovery, `--show-values`): stdout is not
    /// checked for the canary, stderr still is.
    #[must_use]
    pub fn stdout_is_plaintext(mut self) -> Self {
        self.stdout_is_plaintext = true;
        self
    }

    /// Runs it to the end.
    ///
    /// # Errors
    /// When it cannot be started, or the canary is in its output (whatever its exit code).
    pub fn run(self) -> anyhow::Result<CliOutput> {
        self.spawn()?.wait()
    }

    /// [`Sealant::run`] off the async threads.
    ///
    /// # Errors
    /// As [`Sealant::run`].
    pub async fn run_async(self) -> anyhow::Result<CliOutput> {
        tokio::task::spawn_blocking(move || self.run()).await?
    }

    /// Starts it; see [`RunningSealant`].
    ///
    /// # Errors
    /// When it cannot be started.
    pub fn spawn(mut self) -> anyhow::Result<RunningSealant> {
        let name = crate::unique_name("sealant-cli");
        let dir = std::env::temp_dir();
        let (out, err) = (
            dir.join(format!("{name}.stdout")),
            dir.join(format!("{name}.stderr")),
        );
        // Files rather than pipes: nothing to drain while the test waits or kills.
        let stdin = if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut child = self
            .command
            .stdin(stdin)
            .stdout(std::fs::File::create(&out)?)
            .stderr(std::fs::File::create(&err)?)
            .spawn()
            .context("starting sealant")?;
        if let (Some(bytes), Some(mut pipe)) = (self.stdin.take(), child.stdin.take()) {
            std::thread::spawn(move || {
                use std::io::Write as _;
                let _ = pipe.write_all(&bytes);
            });
        }
        Ok(RunningSealant {
            child: Some(child),
            stdout: out,
            stderr: err,
            stdout_is_plaintext: self.stdout_is_plaintext,
        })
    }
}

/// A running `sealant`; killed (and its output checked) when dropped.
#[derive(Debug)]
pub struct RunningSealant {
    child: Option<Child>,
    stdout: PathBuf,
    stderr: PathBuf,
    stdout_is_plaintext: bool,
}

impl RunningSealant {
    /// Its pid.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `Some(status)` once it has exited.
    ///
    /// # Errors
    /// When its state cannot be read.
    pub fn try_wait(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(child) => Ok(child.try_wait()?),
            None => anyhow::bail!("already waited for"),
        }
    }

    /// Waits for the end; returns what it printed.
    ///
    /// # Errors
    /// When the canary is in its output.
    pub fn wait(mut self) -> anyhow::Result<CliOutput> {
        self.finish(false)
    }

    /// SIGKILLs it (if still running); returns what it printed until then.
    ///
    /// # Errors
    /// When the canary is in its output.
    pub fn kill(mut self) -> anyhow::Result<CliOutput> {
        self.finish(true)
    }

    fn finish(&mut self, kill: bool) -> anyhow::Result<CliOutput> {
        let mut child = self.child.take().context("already waited for")?;
        if kill {
            let _ = child.kill();
        }
        let status = child.wait()?;
        let stdout = String::from_utf8_lossy(&std::fs::read(&self.stdout)?).into_owned();
        let stderr = String::from_utf8_lossy(&std::fs::read(&self.stderr)?).into_owned();
        let _ = std::fs::remove_file(&self.stdout);
        let _ = std::fs::remove_file(&self.stderr);
        crate::canary::check("sealant stderr", &stderr)?;
        if !self.stdout_is_plaintext {
            crate::canary::check("sealant stdout", &stdout)?;
        }
        Ok(CliOutput {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for RunningSealant {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        match self.finish(true) {
            Ok(_) => {}
            Err(err) => match err.downcast::<crate::canary::Leak>() {
                Ok(leak) => crate::canary::fail_loudly(Err(leak)),
                Err(err) => eprintln!("warning: stopping sealant: {err:#}"),
            },
        }
    }
}

/// Runs `sealant keys …` in-process (it makes its own runtime, so on a plain thread).
pub fn sealant_keys(args: &[&str]) -> anyhow::Result<Result<(), sealant::error::CliError>> {
    use clap::Parser as _;
    let argv: Vec<&str> = ["sealant", "keys"].iter().chain(args).copied().collect();
    let sealant::args::Command::Keys(command) = sealant::args::Cli::try_parse_from(argv)?.command
    else {
        anyhow::bail!("`sealant keys` parsed as another command");
    };
    std::thread::spawn(move || sealant::keys::run(&command))
        .join()
        .map_err(|_| anyhow::anyhow!("sealant keys panicked"))
}
