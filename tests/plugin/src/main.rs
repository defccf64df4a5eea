//! `age-plugin-sealanttest`: a test-only age plugin, so that sealant's plugin recipients
//! (docs/recovery.md) are tested through the real plugin protocol without hardware.
//!
//! NOT SECURE, on purpose: a recipient and its identity carry the same 16 bytes, and the file
//! key is XORed with them. Two behaviours help the tests:
//! - the stanza names the first 4 bytes of the key, so another identity does not match;
//! - an identity whose bytes are all `0xff` fails like an unplugged device.
//!
//! Recipient `age1sealanttest1…`, identity `AGE-PLUGIN-SEALANTTEST-1…`, both the Bech32 of the
//! 16 bytes.
#![allow(clippy::print_stdout)] // the plugin protocol runs over stdout

use std::collections::{HashMap, HashSet};
use std::io;

use age_core::format::{FileKey, Stanza};
use age_core::secrecy::ExposeSecret as _;
use age_plugin::identity::{self, IdentityPluginV1};
use age_plugin::recipient::{self, RecipientPluginV1};
use age_plugin::{Callbacks, PluginHandler, run_state_machine};

const NAME: &str = "sealanttest";
const KEY_LEN: usize = 16;
const FAILING: [u8; KEY_LEN] = [0xff; KEY_LEN];

fn key(bytes: &[u8]) -> Option<[u8; KEY_LEN]> {
    bytes.try_into().ok()
}

fn tag(key: &[u8; KEY_LEN]) -> String {
    key[..4].iter().map(|b| format!("{b:02x}")).collect()
}

fn xor(file_key: &[u8], key: &[u8; KEY_LEN]) -> Vec<u8> {
    file_key.iter().zip(key).map(|(a, b)| a ^ b).collect()
}

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = Recipients;
    type IdentityV1 = Identities;

    fn recipient_v1(self) -> io::Result<Recipients> {
        Ok(Recipients(Vec::new()))
    }

    fn identity_v1(self) -> io::Result<Identities> {
        Ok(Identities(Vec::new()))
    }
}

struct Recipients(Vec<[u8; KEY_LEN]>);

impl RecipientPluginV1 for Recipients {
    fn add_recipient(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), recipient::Error> {
        match key(bytes).filter(|_| plugin_name == NAME) {
            Some(key) => {
                self.0.push(key);
                Ok(())
            }
            None => Err(recipient::Error::Recipient {
                index,
                message: "not a sealanttest recipient".to_owned(),
            }),
        }
    }

    fn add_identity(
        &mut self,
        index: usize,
        _plugin_name: &str,
        _bytes: &[u8],
    ) -> Result<(), recipient::Error> {
        Err(recipient::Error::Identity {
            index,
            message: "encrypting to identities is not supported".to_owned(),
        })
    }

    fn labels(&mut self) -> HashSet<String> {
        HashSet::new()
    }

    fn wrap_file_keys(
        &mut self,
        file_keys: Vec<FileKey>,
        _callbacks: impl Callbacks<recipient::Error>,
    ) -> io::Result<Result<Vec<Vec<Stanza>>, Vec<recipient::Error>>> {
        Ok(Ok(file_keys
            .iter()
            .map(|file_key| {
                self.0
                    .iter()
                    .map(|key| Stanza {
                        tag: NAME.to_owned(),
                        args: vec![tag(key)],
                        body: xor(file_key.expose_secret(), key),
                    })
                    .collect()
            })
            .collect()))
    }
}

struct Identities(Vec<[u8; KEY_LEN]>);

impl IdentityPluginV1 for Identities {
    fn add_identity(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), identity::Error> {
        match key(bytes).filter(|_| plugin_name == NAME) {
            Some(key) => {
                self.0.push(key);
                Ok(())
            }
            None => Err(identity::Error::Identity {
                index,
                message: "not a sealanttest identity".to_owned(),
            }),
        }
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        mut callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        let mut out = HashMap::new();
        for (file, stanzas) in files.iter().enumerate() {
            for (index, key) in self.0.iter().enumerate() {
                if *key == FAILING {
                    out.insert(
                        file,
                        Err(vec![identity::Error::Identity {
                            index,
                            message: "test device not present".to_owned(),
                        }]),
                    );
                    break;
                }
                let found = stanzas
                    .iter()
                    .find(|s| s.tag == NAME && s.args == [tag(key)] && s.body.len() == KEY_LEN);
                if let Some(stanza) = found {
                    let _ = callbacks.message("sealanttest: unwrapping")?;
                    let body = xor(&stanza.body, key);
                    let file_key = FileKey::try_init_with_mut(|fk| {
                        fk.copy_from_slice(&body);
                        Ok::<(), identity::Error>(())
                    });
                    out.insert(file, file_key.map_err(|e| vec![e]));
                    break;
                }
            }
        }
        Ok(out)
    }
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let state_machine = match args.next() {
        Some(arg) => match arg.strip_prefix("--age-plugin=") {
            Some(state) => state.to_owned(),
            None if arg == "--age-plugin" => args.next().unwrap_or_default(),
            None => String::new(),
        },
        None => String::new(),
    };
    if state_machine.is_empty() {
        eprintln!("age-plugin-sealanttest: a test-only age plugin; run by age with --age-plugin");
        std::process::exit(2);
    }
    run_state_machine(&state_machine, Handler)
}
