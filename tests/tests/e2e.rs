//! The end-to-end suite as one test binary (tests/cluster/README.md, "Adding a test file"):
//! every file of tests/tests/ is a module here, so Cargo builds and links one binary and
//! libtest spreads all e2e tests over its threads instead of running the files one after
//! another. Test names carry the file: `bash tests/e2e.sh tenants::` runs tenants.rs.
//!
//! The files' tests share one process and run side by side on one cluster: cluster-scoped
//! objects get unique names, and the tests using a name that cannot be unique take one lock
//! (`DEFAULT_CLUSTER_NAMES` in deploy/main.rs).

mod admission;
mod age;
mod cli;
mod controller;
// deploy/ and faults/ keep their files; main.rs is the module root, its `mod` lines find
// the files next to it.
#[path = "deploy/main.rs"]
mod deploy;
mod escrow;
#[path = "faults/main.rs"]
mod faults;
mod hostile;
mod keyprotect;
mod lanes;
mod leader;
mod leaks;
mod migration;
mod proxy;
mod reconcile;
mod recovery;
mod rollout;
mod rotation;
mod smoke;
mod ssa;
mod tenancy;
mod tenant_keys;
mod tenants;
mod webui;
