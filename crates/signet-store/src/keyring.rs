//! Master keys: loaded from a 0600 key file in the data dir (created on the first start of
//! a database that holds no sealed secret, never otherwise) or from `SIGNET_MASTER_KEY`,
//! several at once so that keys rotate online.
//!
//! Key file (JSON): `{"current": "k-…", "keys": {"k1": "<base64 32 bytes>", "k-…": "…"}}`.
//! New keys get random ids ([`Keyring::new_key_id`]); ids like `k1` of older files load.
//! `SIGNET_MASTER_KEY`: `k2:<base64>,k1:<base64>`, the first being current.

use std::{collections::BTreeMap, path::Path};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::{
    Binding, Sealed, StoreError,
    envelope::{KEY, NONCE},
};

/// The loaded master keys and which one is current.
#[derive(Clone)]
pub struct Keyring {
    current: String,
    keys: BTreeMap<String, Zeroizing<[u8; KEY]>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut b = [0u8; N];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| StoreError::Crypto("random number generator"))?;
    Ok(b)
}

fn check_id(id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadKeyId(id.to_owned()))
    }
}

fn aead_key(bytes: &[u8]) -> Result<LessSafeKey, StoreError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| StoreError::Crypto("AES-256-GCM key"))
}

fn seal_with(
    key: &[u8],
    nonce: [u8; NONCE],
    aad: &[u8],
    data: &mut Vec<u8>,
) -> Result<(), StoreError> {
    aead_key(key)?
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), data)
        .map_err(|_| StoreError::Crypto("AES-256-GCM seal"))
}

fn open_with(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| StoreError::Malformed("nonce"))?;
    let mut buf = Zeroizing::new(sealed.to_vec());
    let len = aead_key(key)?
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| StoreError::Tampered)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    current: String,
    keys: BTreeMap<String, String>,
}

impl Keyring {
    /// A keyring with one new random key.
    pub fn generate(id: &str) -> Result<Keyring, StoreError> {
        check_id(id)?;
        let mut keys = BTreeMap::new();
        keys.insert(id.to_owned(), Zeroizing::new(random::<KEY>()?));
        Ok(Keyring {
            current: id.to_owned(),
            keys,
        })
    }

    /// The current key id.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// Every loaded key id.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.keys().map(String::as_str).collect()
    }

    /// Each key id with a check value of its key (the first 16 bytes of SHA-256 over a
    /// label and the key, hex): it tells two keys apart without revealing either.
    pub fn checks(&self) -> Vec<(String, String)> {
        self.keys
            .iter()
            .map(|(id, key)| {
                let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
                ctx.update(b"signet master key check\0");
                ctx.update(&key[..]);
                let digest = ctx.finish();
                (
                    id.clone(),
                    signet_formats::hex_lower(&digest.as_ref()[..16]),
                )
            })
            .collect()
    }

    /// Adds a new random key and makes it current; older keys stay for opening.
    pub fn rotate(&mut self, id: &str) -> Result<(), StoreError> {
        check_id(id)?;
        if self.keys.contains_key(id) {
            return Err(StoreError::BadKeyId(id.to_owned()));
        }
        self.keys
            .insert(id.to_owned(), Zeroizing::new(random::<KEY>()?));
        id.clone_into(&mut self.current);
        Ok(())
    }

    /// Drops a key that is no longer current (after every record was rewrapped).
    pub fn remove(&mut self, id: &str) -> Result<(), StoreError> {
        if id == self.current || !self.keys.contains_key(id) {
            return Err(StoreError::BadKeyId(id.to_owned()));
        }
        self.keys.remove(id);
        Ok(())
    }

    /// Seals `plaintext` for the record `binding` names, under a fresh data key.
    pub fn seal(&self, plaintext: &[u8], binding: &Binding<'_>) -> Result<Sealed, StoreError> {
        let format = binding.format();
        let aad = binding.aad(format);
        let master = self
            .keys
            .get(&self.current)
            .ok_or_else(|| StoreError::MissingKey(self.current.clone()))?;
        let dek = Zeroizing::new(random::<KEY>()?);
        let mut data = plaintext.to_vec();
        let data_nonce = random::<NONCE>()?;
        seal_with(&dek[..], data_nonce, &aad, &mut data)?;
        self.assemble(format, &master[..], &dek[..], data_nonce, &data, &aad)
    }

    fn assemble(
        &self,
        format: u8,
        master: &[u8],
        dek: &[u8],
        data_nonce: [u8; NONCE],
        ciphertext: &[u8],
        aad: &[u8],
    ) -> Result<Sealed, StoreError> {
        let mut wrapped = dek.to_vec();
        let wrap_nonce = random::<NONCE>()?;
        seal_with(master, wrap_nonce, aad, &mut wrapped)?;
        let id = self.current.as_bytes();
        let mut out =
            Vec::with_capacity(2 + id.len() + NONCE * 2 + wrapped.len() + ciphertext.len());
        out.push(format);
        out.push(u8::try_from(id.len()).map_err(|_| StoreError::BadKeyId(self.current.clone()))?);
        out.extend_from_slice(id);
        out.extend_from_slice(&wrap_nonce);
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&data_nonce);
        out.extend_from_slice(ciphertext);
        Ok(Sealed(out))
    }

    fn unwrap_dek(&self, sealed: &Sealed, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let p = sealed.parts()?;
        let master = self
            .keys
            .get(p.key_id)
            .ok_or_else(|| StoreError::MissingKey(p.key_id.to_owned()))?;
        open_with(&master[..], p.wrap_nonce, aad, p.wrapped)
    }

    /// Opens a sealed blob of the record `binding` names. Anything changed, or a blob of
    /// another record, is [`StoreError::Tampered`]; nothing partial is ever returned.
    pub fn open(
        &self,
        sealed: &Sealed,
        binding: &Binding<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let p = sealed.parts()?;
        let aad = binding.aad(p.format);
        let dek = self.unwrap_dek(sealed, &aad)?;
        open_with(&dek, p.data_nonce, &aad, p.ciphertext)
    }

    /// Re-wraps the data key under the current master key; the ciphertext is unchanged.
    pub fn rewrap(&self, sealed: &Sealed, binding: &Binding<'_>) -> Result<Sealed, StoreError> {
        let p = sealed.parts()?;
        let aad = binding.aad(p.format);
        let dek = self.unwrap_dek(sealed, &aad)?;
        let master = self
            .keys
            .get(&self.current)
            .ok_or_else(|| StoreError::MissingKey(self.current.clone()))?;
        let mut nonce = [0u8; NONCE];
        nonce.copy_from_slice(p.data_nonce);
        self.assemble(p.format, &master[..], &dek, nonce, p.ciphertext, &aad)
    }

    /// Parses `SIGNET_MASTER_KEY`: `id:base64[,id:base64…]`, the first current.
    pub fn from_env_value(value: &str) -> Result<Keyring, StoreError> {
        let mut keys = BTreeMap::new();
        let mut current = None;
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (id, b64) = item
                .split_once(':')
                .ok_or_else(|| StoreError::BadKeyConfig("expected id:base64 entries".into()))?;
            check_id(id)?;
            let key = decode_key(id, b64)?;
            if keys.insert(id.to_owned(), key).is_some() {
                return Err(StoreError::BadKeyId(id.to_owned()));
            }
            current.get_or_insert_with(|| id.to_owned());
        }
        let current = current.ok_or_else(|| StoreError::BadKeyConfig("no keys".into()))?;
        Ok(Keyring { current, keys })
    }

    /// Loads the key file. A file that is not there is [`StoreError::KeyFileMissing`]:
    /// only [`Keyring::create`] makes a key file, so none is ever made by accident.
    pub fn load(path: &Path) -> Result<Keyring, StoreError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::KeyFileMissing(path.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        check_file_mode(path)?;
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| {
            StoreError::BadKeyConfig(format!("{}: line {}", path.display(), e.line()))
        })?;
        let mut keys = BTreeMap::new();
        for (id, b64) in &file.keys {
            check_id(id)?;
            keys.insert(id.clone(), decode_key(id, b64)?);
        }
        if !keys.contains_key(&file.current) {
            return Err(StoreError::BadKeyConfig(format!(
                "current key `{}` is not in the file",
                file.current
            )));
        }
        Ok(Keyring {
            current: file.current,
            keys,
        })
    }

    /// Creates a key file (mode 0600) holding one new key under a new id
    /// ([`Keyring::new_key_id`]). Refuses to replace a file that exists (an
    /// [`StoreError::Io`] of kind `AlreadyExists`). Whether a new key is wanted at all is
    /// the caller's question: [`Store::open_with_key_file`](crate::Store::open_with_key_file)
    /// asks it of the database first.
    pub fn create(path: &Path) -> Result<Keyring, StoreError> {
        let ring = Keyring::generate(&Keyring::new_key_id()?)?;
        // Written whole under a name of its own, then linked into place: the link fails
        // if the file exists, and nobody ever sees a half-written key file.
        let tmp = sibling(path, &format!("new-{}", crate::secrets::random_hex(6)?));
        write_private(&tmp, &ring.file_json()?)?;
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        linked?;
        sync_dir(path)?;
        Ok(ring)
    }

    /// A new key id, `k-` and 12 random hex digits (48 bits): ids of keys made anywhere,
    /// at any time, do not repeat, so a sealed record never names a key id that two
    /// different keys have had. Older files' ids such as `k1` are still read.
    pub fn new_key_id() -> Result<String, StoreError> {
        Ok(format!("k-{}", crate::secrets::random_hex(6)?))
    }

    /// Whether `id` is loaded.
    pub fn has(&self, id: &str) -> bool {
        self.keys.contains_key(id)
    }

    /// A keyring without keys: it opens and seals nothing (every use is
    /// [`StoreError::MissingKey`]). Holds a store's place while it is decided whether a
    /// key may be made.
    pub(crate) fn empty() -> Keyring {
        Keyring {
            current: String::new(),
            keys: BTreeMap::new(),
        }
    }

    fn file_json(&self) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let file = KeyFile {
            current: self.current.clone(),
            keys: self
                .keys
                .iter()
                .map(|(id, k)| (id.clone(), b64.encode(&k[..])))
                .collect(),
        };
        Ok(Zeroizing::new(
            serde_json::to_vec_pretty(&file)
                .map_err(|_| StoreError::Crypto("key file encoding"))?,
        ))
    }

    /// Writes the key file atomically with mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), StoreError> {
        let json = self.file_json()?;
        let tmp = sibling(path, "tmp");
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, &json)?;
        std::fs::rename(&tmp, path)?;
        sync_dir(path)?;
        Ok(())
    }
}

/// `.master.key.<suffix>` next to `path`.
fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("master-key");
    path.with_file_name(format!(".{name}.{suffix}"))
}

/// Writes a new file (it must not exist) with mode 0600 and syncs it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Makes a new or renamed file's directory entry durable: a key file must not vanish in
/// a power cut after secrets sealed under it were committed.
#[cfg(unix)]
fn sync_dir(path: &Path) -> Result<(), StoreError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

fn decode_key(id: &str, b64: &str) -> Result<Zeroizing<[u8; KEY]>, StoreError> {
    let bytes = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| StoreError::BadKeyConfig(format!("key `{id}` is not base64")))?,
    );
    let mut key = Zeroizing::new([0u8; KEY]);
    if bytes.len() != KEY {
        return Err(StoreError::BadKeyConfig(format!(
            "key `{id}` must be 32 bytes"
        )));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

#[cfg(unix)]
fn check_file_mode(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(StoreError::BadKeyConfig(format!(
            "{} is readable by others (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_file_mode(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(record: &str) -> Binding<'_> {
        Binding {
            org: "org_1",
            record,
            kind: "android-keystore",
            version: 3,
            derived: Some(r#"{"sha256":"AB:CD"}"#),
        }
    }

    #[test]
    fn round_trips_and_uses_a_fresh_data_key_per_seal() {
        let ring = Keyring::generate("k1").unwrap();
        let a = ring.seal(b"secret", &binding("r1")).unwrap();
        let b = ring.seal(b"secret", &binding("r1")).unwrap();
        assert_ne!(a, b, "two seals of one value must differ");
        assert_eq!(&*ring.open(&a, &binding("r1")).unwrap(), b"secret");
        assert!(!a.as_bytes().windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn format_1_blobs_open_and_format_2_cannot_pass_for_one() {
        let ring = Keyring::generate("k1").unwrap();
        let v1 = Binding {
            derived: None,
            ..binding("r1")
        };
        let old = ring.seal(b"before format 2", &v1).unwrap();
        assert_eq!(old.as_bytes()[0], 1);
        // A format 1 blob opens whatever metadata the row holds now (it bound none).
        assert_eq!(
            &*ring.open(&old, &binding("r1")).unwrap(),
            b"before format 2"
        );
        let new = ring.seal(b"the app-signing key", &binding("r1")).unwrap();
        assert_eq!(new.as_bytes()[0], 2);
        let mut downgraded = new.as_bytes().to_vec();
        downgraded[0] = 1;
        assert!(matches!(
            ring.open(&Sealed::from_bytes(downgraded), &binding("r1")),
            Err(StoreError::Tampered)
        ));
        // Rewrapping keeps the format and the binding.
        let rewrapped = ring.rewrap(&new, &binding("r1")).unwrap();
        assert_eq!(rewrapped.as_bytes()[0], 2);
        assert!(matches!(
            ring.open(&rewrapped, &v1),
            Err(StoreError::Tampered)
        ));
    }

    #[test]
    fn moved_or_changed_ciphertexts_never_open() {
        let ring = Keyring::generate("k1").unwrap();
        let sealed = ring.seal(b"the app-signing key", &binding("r1")).unwrap();
        for other in [
            Binding {
                record: "r2",
                ..binding("r1")
            },
            Binding {
                org: "org_2",
                ..binding("r1")
            },
            Binding {
                kind: "apple-p12",
                ..binding("r1")
            },
            Binding {
                version: 4,
                ..binding("r1")
            },
            // The metadata shown for the secret was changed in the database.
            Binding {
                derived: Some(r#"{"sha256":"EE:EE"}"#),
                ..binding("r1")
            },
            Binding {
                derived: None,
                ..binding("r1")
            },
        ] {
            assert!(
                matches!(ring.open(&sealed, &other), Err(StoreError::Tampered)),
                "{other:?}"
            );
        }
        // Flip every byte after the key id in turn: every one is detected.
        let start = 2 + 2;
        for i in start..sealed.as_bytes().len() {
            let mut b = sealed.as_bytes().to_vec();
            b[i] ^= 1;
            let r = ring.open(&Sealed::from_bytes(b), &binding("r1"));
            assert!(
                matches!(r, Err(StoreError::Tampered | StoreError::Malformed(_))),
                "byte {i}: {r:?}"
            );
        }
        for n in 0..sealed.as_bytes().len() {
            assert!(
                ring.open(
                    &Sealed::from_bytes(sealed.as_bytes()[..n].to_vec()),
                    &binding("r1")
                )
                .is_err()
            );
        }
    }

    #[test]
    fn rotation_rewrap_and_removal() {
        let mut ring = Keyring::generate("k1").unwrap();
        let old = ring.seal(b"v", &binding("r1")).unwrap();
        ring.rotate("k2").unwrap();
        assert_eq!(ring.current(), "k2");
        assert_eq!(
            &*ring.open(&old, &binding("r1")).unwrap(),
            b"v",
            "old keys still open"
        );
        let new = ring.rewrap(&old, &binding("r1")).unwrap();
        assert_eq!(new.key_id().unwrap(), "k2");
        ring.remove("k1").unwrap();
        assert_eq!(&*ring.open(&new, &binding("r1")).unwrap(), b"v");
        assert!(
            matches!(ring.open(&old, &binding("r1")), Err(StoreError::MissingKey(k)) if k == "k1")
        );
        assert!(
            ring.remove("k2").is_err(),
            "the current key cannot be removed"
        );
        assert!(ring.rotate("k2").is_err(), "ids are unique");
    }

    #[test]
    fn key_file_is_created_0600_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let ring = Keyring::create(&path).unwrap();
        assert!(ring.current().starts_with("k-"), "{ring:?}");
        let sealed = ring.seal(b"x", &binding("r")).unwrap();
        assert_eq!(sealed.key_id().unwrap(), ring.current());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // Only the key file is left in the directory (no temporary file).
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("master.key")]);
        let again = Keyring::load(&path).unwrap();
        assert_eq!(again.current(), ring.current());
        assert_eq!(&*again.open(&sealed, &binding("r")).unwrap(), b"x");
        assert!(!format!("{again:?}").contains(&std::fs::read_to_string(&path).unwrap()[40..60]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                Keyring::load(&path),
                Err(StoreError::BadKeyConfig(m)) if m.contains("readable by others (mode 644)")
            ));
        }
    }

    #[test]
    fn load_of_a_missing_file_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let err = Keyring::load(&path).unwrap_err();
        assert!(
            matches!(&err, StoreError::KeyFileMissing(p) if *p == path),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "the master key file {} is missing or cannot be read; nothing new can be \
                 sealed until it is restored",
                path.display()
            )
        );
        assert!(!path.exists(), "load must not create a key file");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn create_never_replaces_a_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let first = Keyring::create(&path).unwrap();
        let before = std::fs::read(&path).unwrap();
        let err = Keyring::create(&path).unwrap_err();
        assert!(
            matches!(&err, StoreError::Io(e) if e.kind() == std::io::ErrorKind::AlreadyExists),
            "{err:?}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(Keyring::load(&path).unwrap().current(), first.current());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn new_key_ids_never_repeat() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            let id = Keyring::new_key_id().unwrap();
            assert_eq!(id.len(), 14, "{id}");
            assert!(id.starts_with("k-"), "{id}");
            assert!(
                id[2..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{id}"
            );
            check_id(&id).unwrap();
            assert!(seen.insert(id.clone()), "{id} repeated");
        }
        // Keys made by `create` take such ids too, each its own.
        let dir = tempfile::tempdir().unwrap();
        let a = Keyring::create(&dir.path().join("a.key")).unwrap();
        let b = Keyring::create(&dir.path().join("b.key")).unwrap();
        assert_ne!(a.current(), b.current());
        assert_ne!(a.current(), "k1");
    }

    #[test]
    fn key_files_with_older_ids_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let ring = Keyring::generate("k1").unwrap();
        let sealed = ring.seal(b"old", &binding("r")).unwrap();
        ring.save(&path).unwrap();
        let mut loaded = Keyring::load(&path).unwrap();
        assert_eq!(loaded.current(), "k1");
        assert_eq!(&*loaded.open(&sealed, &binding("r")).unwrap(), b"old");
        loaded.rotate(&Keyring::new_key_id().unwrap()).unwrap();
        assert_eq!(&*loaded.open(&sealed, &binding("r")).unwrap(), b"old");
    }

    #[test]
    fn env_value_lists_keys_current_first() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let (k2, k1) = (b64.encode([2u8; 32]), b64.encode([1u8; 32]));
        let ring = Keyring::from_env_value(&format!("k2:{k2}, k1:{k1}")).unwrap();
        assert_eq!(ring.current(), "k2");
        assert_eq!(ring.key_ids(), vec!["k1", "k2"]);
        for bad in [
            "",
            "k1",
            "k1:notbase64!",
            &format!("k1:{}", b64.encode([0u8; 16])),
            &format!("k1:{k1},k1:{k1}"),
            &format!("bad id:{k1}"),
        ] {
            assert!(Keyring::from_env_value(bad).is_err(), "{bad}");
        }
        // Errors never print key material.
        let err = Keyring::from_env_value(&format!("k1:{}", b64.encode([7u8; 16])))
            .unwrap_err()
            .to_string();
        assert!(!err.contains(&b64.encode([7u8; 16])), "{err}");
    }
}
