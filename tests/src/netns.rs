//! A test-made network namespace joined to the host by a veth pair, for what must cross a
//! real network: the API server's service proxy refuses loopback endpoints, so a controller
//! reached through it has to listen on an address of its own.
//!
//! The pair gets a random /30 from the benchmarking range 198.18.0.0/15 that nothing on the
//! machine uses yet; traffic goes only between the host and this namespace. Needs root and
//! iproute2 (`tests/cluster/build.sh` installs it).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsFd as _;
use std::process::Command;

use anyhow::{Context as _, bail};
use tokio::task::JoinHandle;

/// A network namespace with one veth link to the host; deleted (with the link) on drop.
pub struct NetNs {
    name: String,
    host_ip: Ipv4Addr,
    ns_ip: Ipv4Addr,
    bridges: Vec<JoinHandle<()>>,
}

fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

fn ip(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .context("running `ip` (iproute2; installed by tests/cluster/build.sh)")?;
    if !output.status.success() {
        bail!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl NetNs {
    /// Makes the namespace, the veth pair and their addresses.
    ///
    /// # Errors
    /// Without root or iproute2, or when no free /30 turned up.
    pub fn create() -> anyhow::Result<Self> {
        let id = random_u64();
        let name = format!("sealant-e2e-{:08x}", id as u32);
        let (host_link, ns_link) = (
            format!("se{:06x}h", (id >> 32) as u32 & 0xff_ffff),
            format!("se{:06x}n", (id >> 32) as u32 & 0xff_ffff),
        );
        let subnet = Self::free_subnet(id)?;
        let [a, b, c, d] = subnet.octets();
        let host_ip = Ipv4Addr::new(a, b, c, d + 1);
        let ns_ip = Ipv4Addr::new(a, b, c, d + 2);
        ip(&["netns", "add", &name])?;
        // From here on, Drop removes whatever was made.
        let netns = Self {
            name,
            host_ip,
            ns_ip,
            bridges: Vec::new(),
        };
        let ns = netns.name.as_str();
        ip(&[
            "link", "add", &host_link, "type", "veth", "peer", "name", &ns_link,
        ])?;
        ip(&["link", "set", &ns_link, "netns", ns])?;
        ip(&["addr", "add", &format!("{host_ip}/30"), "dev", &host_link])?;
        ip(&["link", "set", &host_link, "up"])?;
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{ns_ip}/30"),
            "dev",
            &ns_link,
        ])?;
        ip(&["-n", ns, "link", "set", &ns_link, "up"])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
        Ok(netns)
    }

    /// A /30 in 198.18.0.0/15 with no address or route on this machine.
    fn free_subnet(seed: u64) -> anyhow::Result<Ipv4Addr> {
        for attempt in 0..32u64 {
            let pick = seed.wrapping_add(attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let third = (pick >> 8) as u8;
            let base = Ipv4Addr::new(
                198,
                18 + (pick & 1) as u8,
                third,
                ((pick >> 16) as u8) & 0xfc,
            );
            let cidr = format!("{base}/30");
            let used = !ip(&["-4", "addr", "show", "to", &cidr])?.trim().is_empty()
                || !ip(&["-4", "route", "show", "root", &cidr])?
                    .trim()
                    .is_empty();
            if !used {
                return Ok(base);
            }
        }
        bail!("no free /30 in 198.18.0.0/15 after 32 tries")
    }

    /// The namespace's name (`ip netns exec NAME …`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's end of the link: where its servers are reached from the host.
    pub fn ip(&self) -> Ipv4Addr {
        self.ns_ip
    }

    /// The host's end of the link.
    pub fn host_ip(&self) -> Ipv4Addr {
        self.host_ip
    }

    /// A command run inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// Listens on 127.0.0.1 *inside* the namespace and forwards each connection to `target`
    /// on the host's loopback; returns the port. This is how a process in the namespace
    /// reaches the API server, which listens on the host's loopback only.
    ///
    /// # Errors
    /// When the namespace cannot be entered or the listener cannot be made.
    pub fn bridge_to(&mut self, target: SocketAddr) -> anyhow::Result<u16> {
        let path = format!("/run/netns/{}", self.name);
        // A socket stays in the namespace it was made in; only this short-lived thread moves.
        let listener = std::thread::spawn(move || -> anyhow::Result<std::net::TcpListener> {
            let file = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
            rustix::thread::move_into_link_name_space(
                file.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .context("entering the network namespace")?;
            let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
            listener.set_nonblocking(true)?;
            Ok(listener)
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the namespace thread panicked"))??;
        let port = listener.local_addr()?.port();
        let listener = tokio::net::TcpListener::from_std(listener)?;
        self.bridges.push(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
        Ok(port)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        for bridge in &self.bridges {
            bridge.abort();
        }
        // Deleting the namespace removes the veth pair (both ends) with it.
        let _ = ip(&["netns", "del", &self.name]);
    }
}
