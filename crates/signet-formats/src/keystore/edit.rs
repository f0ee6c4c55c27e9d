//! Editing a keystore that was read, then writing it back: keytool's `-storepasswd`,
//! `-keypasswd`, `-changealias` and `-delete`, and a key entry stored from its parts (what
//! `openssl pkcs12 -export` makes of a PEM key and chain).
//!
//! Entries an edit does not touch are written back as they were read. A JKS key stays
//! sealed under its own key password, with its creation time: a new store password leaves
//! the key passwords as they were, as keytool's `-storepasswd` does on a JKS file. A PKCS#12
//! key, decrypted with the store password when the file was read, is encrypted again under
//! the store password given to [`Keystore::to_bytes`], with the algorithms of the file read.
//! A PKCS#12 file has one password, so [`Keystore::change_key_password`] refuses it (keytool:
//! "-keypasswd commands not supported if -storetype is PKCS12").
//!
//! Keys are carried as PKCS#8 bytes, never re-read as [`PrivateKey`]s, so an edit keeps a
//! key signet cannot sign with (an old 1024-bit RSA key, a DSA key) intact.

use crate::{
    Certificate, FormatError, KeyEntry, Password, Pkcs12Encryption, PrivateKey, Result,
    keystore::{Entry, EntryKind, Keystore, KeystoreType, SealedKey, jks, pkcs12},
    pem,
};

impl Keystore {
    /// An empty keystore of `kind`, for [`Keystore::set_key_entry`] to fill; a PKCS#12 one
    /// is written with `pkcs12_encryption`.
    pub fn new(kind: KeystoreType, pkcs12_encryption: Pkcs12Encryption) -> Keystore {
        Keystore {
            kind,
            entries: Vec::new(),
            integrity_checked: true,
            secret_entries: 0,
            pkcs12_encryption,
        }
    }

    /// Renames the entry `alias` (keytool's `-changealias`) and returns the new alias as it
    /// is stored: lower-cased in a JKS file, as Java's JKS provider stores aliases. No key
    /// password is needed: a sealed JKS key does not name its alias.
    pub fn rename(&mut self, alias: &str, new_alias: &str) -> Result<String> {
        let index = self.position(alias)?;
        let stored = self.stored_alias(new_alias)?;
        self.refuse_taken(&stored, Some(index))?;
        self.entries[index].alias.clone_from(&stored);
        Ok(stored)
    }

    /// Removes the entry `alias` (keytool's `-delete`) and returns it.
    pub fn delete(&mut self, alias: &str) -> Result<Entry> {
        let index = self.position(alias)?;
        Ok(self.entries.remove(index))
    }

    /// Changes the password of a JKS private key (keytool's `-keypasswd`): the key chosen
    /// as [`Keystore::key_entry`] chooses is decrypted with `old` and sealed under `new`;
    /// returns its alias. A wrong `old` is [`FormatError::WrongKeyPassword`] and changes
    /// nothing. A PKCS#12 keystore has no key password of its own:
    /// [`FormatError::Pkcs12KeyPassword`].
    pub fn change_key_password(
        &mut self,
        alias: Option<&str>,
        old: &Password,
        new: &Password,
    ) -> Result<String> {
        if self.kind == KeystoreType::Pkcs12 {
            return Err(FormatError::Pkcs12KeyPassword);
        }
        refuse_empty(new, "key")?;
        let alias = self.key_entry(alias)?.alias.clone();
        let index = self.position(&alias)?;
        let EntryKind::PrivateKey {
            sealed: SealedKey::Jks(protected),
            ..
        } = &mut self.entries[index].kind
        else {
            return Err(FormatError::NotAKeyEntry { alias });
        };
        let der = jks::unprotect_der(protected, old, &alias)?;
        *protected = jks::protect(&der, new)?;
        Ok(alias)
    }

    /// Stores a private key with its certificate chain (leaf first) under `entry.alias`,
    /// and returns the alias as stored. The key must be the leaf's
    /// ([`FormatError::KeyCertificateMismatch`]) and each certificate must be followed by
    /// its issuer, when the chain goes on. An alias in use is [`FormatError::AliasExists`]
    /// unless `replace`, which puts the new entry in the old one's place.
    ///
    /// In a JKS file the key is sealed under `key_password`; in a PKCS#12 file it is
    /// protected by the store password when written, and `key_password` is ignored.
    pub fn set_key_entry(
        &mut self,
        entry: KeyEntry,
        key_password: &Password,
        replace: bool,
    ) -> Result<String> {
        check_chain(&entry.key, &entry.chain)?;
        let stored = self.stored_alias(&entry.alias)?;
        let existing = self
            .entries
            .iter()
            .position(|e| same_alias(&e.alias, &stored));
        if existing.is_some() && !replace {
            self.refuse_taken(&stored, None)?;
        }
        let sealed = match self.kind {
            KeystoreType::Jks => {
                refuse_empty(key_password, "key")?;
                SealedKey::Jks(jks::protect(entry.key.pkcs8_der(), key_password)?)
            }
            KeystoreType::Pkcs12 => {
                SealedKey::Pkcs8(zeroize::Zeroizing::new(entry.key.pkcs8_der().to_vec()))
            }
        };
        // A JKS entry records when it was made; fixed now, so every write says the same.
        let created = match self.kind {
            KeystoreType::Jks => entry
                .created
                .or_else(|| Some(time::OffsetDateTime::now_utc())),
            KeystoreType::Pkcs12 => None,
        };
        let new = Entry {
            alias: stored.clone(),
            created,
            kind: EntryKind::PrivateKey {
                chain: entry.chain,
                sealed,
            },
        };
        match existing {
            Some(i) => self.entries[i] = new,
            None => self.entries.push(new),
        }
        Ok(stored)
    }

    /// Writes the keystore back as its type, under `store_password`: for JKS the integrity
    /// digest (keys stay sealed as they are), for PKCS#12 every key, certificate and the
    /// MAC. Refused for a JKS listed without its store password (nothing proved the file
    /// unaltered), for a PKCS#12 file with secret-key entries (they would be lost), and for
    /// an empty password.
    pub fn to_bytes(&self, store_password: &Password) -> Result<Vec<u8>> {
        if !self.integrity_checked && self.kind == KeystoreType::Jks {
            return Err(FormatError::StorePasswordRequired);
        }
        if self.secret_entries > 0 {
            return Err(FormatError::InvalidParameter(format!(
                "the keystore holds {} secret-key entries, which signet cannot carry over; \
                 edit it with keytool",
                self.secret_entries
            )));
        }
        refuse_empty(store_password, "store")?;
        match self.kind {
            KeystoreType::Jks => jks::write_entries(&self.entries, store_password),
            KeystoreType::Pkcs12 => {
                let mut keys = Vec::new();
                let mut trusted = Vec::new();
                for entry in &self.entries {
                    match &entry.kind {
                        EntryKind::PrivateKey {
                            chain,
                            sealed: SealedKey::Pkcs8(der),
                        } => keys.push(pkcs12::KeyBag {
                            alias: &entry.alias,
                            pkcs8: der,
                            chain,
                        }),
                        EntryKind::PrivateKey { .. } => {
                            return Err(FormatError::InvalidParameter(format!(
                                "the key of alias `{}` is not decrypted for a PKCS#12 file",
                                entry.alias
                            )));
                        }
                        EntryKind::TrustedCertificate(c) => {
                            trusted.push((entry.alias.as_str(), &**c));
                        }
                    }
                }
                pkcs12::write_bags(&keys, &trusted, store_password, self.pkcs12_encryption)
            }
        }
    }

    /// The index of the entry [`Keystore::entry`] finds.
    fn position(&self, alias: &str) -> Result<usize> {
        let found = self.entry(alias)?;
        Ok(self
            .entries
            .iter()
            .position(|e| std::ptr::eq(e, found))
            .unwrap_or_default())
    }

    /// An alias as this type stores it; an empty one is refused.
    fn stored_alias(&self, alias: &str) -> Result<String> {
        if alias.is_empty() {
            return Err(FormatError::InvalidParameter(
                "an alias cannot be empty".into(),
            ));
        }
        Ok(match self.kind {
            KeystoreType::Jks => alias.to_lowercase(),
            KeystoreType::Pkcs12 => alias.to_owned(),
        })
    }

    /// Refuses `alias` when an entry other than the one at `except` has it. Aliases that
    /// differ in case only are one alias: Java's JKS lower-cases them, and keytool compares
    /// PKCS#12 aliases lower-cased.
    fn refuse_taken(&self, alias: &str, except: Option<usize>) -> Result<()> {
        match self
            .entries
            .iter()
            .enumerate()
            .find(|(i, e)| Some(*i) != except && same_alias(&e.alias, alias))
        {
            Some((_, e)) => Err(FormatError::AliasExists {
                alias: e.alias.clone(),
            }),
            None => Ok(()),
        }
    }
}

fn same_alias(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn refuse_empty(password: &Password, which: &str) -> Result<()> {
    if password.expose().is_empty() {
        return Err(FormatError::InvalidParameter(format!(
            "the new {which} password is empty; a keystore is written with a password"
        )));
    }
    Ok(())
}

/// The key must be the first certificate's, and each certificate issued by the next.
fn check_chain(key: &PrivateKey, chain: &[Certificate]) -> Result<()> {
    let leaf = chain.first().ok_or_else(|| {
        FormatError::InvalidParameter("a private key entry needs its certificate".into())
    })?;
    if !key.matches(leaf)? {
        return Err(FormatError::KeyCertificateMismatch {
            subject: leaf.info().subject.clone(),
        });
    }
    for (i, pair) in chain.windows(2).enumerate() {
        let (cert, issuer) = (pair[0].info(), pair[1].info());
        if cert.issuer != issuer.subject {
            return Err(FormatError::InvalidParameter(format!(
                "certificate {} of the chain (`{}`) is not the issuer of certificate {} \
                 (issued by `{}`): give the chain leaf first, each certificate followed by \
                 its issuer",
                i + 2,
                issuer.subject,
                i + 1,
                cert.issuer
            )));
        }
    }
    Ok(())
}

impl KeyEntry {
    /// A key entry from files as OpenSSL writes them: a PKCS#8 private key (PEM `PRIVATE
    /// KEY` or DER; a traditional `RSA`/`EC PRIVATE KEY` is refused with the command that
    /// converts it) and its certificate chain, PEM blocks leaf first (or one DER
    /// certificate). Nothing is checked against the key here; [`Keystore::set_key_entry`]
    /// does.
    pub fn from_key_and_chain(alias: &str, key: &[u8], chain: &[u8]) -> Result<KeyEntry> {
        let key = crate::apple::read_private_key(key)?;
        let chain = if pem::contains_label(chain, "CERTIFICATE") {
            pem::decode_all(chain, "CERTIFICATE")?
                .iter()
                .map(|der| Certificate::from_der(der))
                .collect::<Result<Vec<_>>>()?
        } else {
            vec![Certificate::from_der(chain)?]
        };
        Ok(KeyEntry {
            alias: alias.to_owned(),
            created: None,
            key,
            chain,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DistinguishedName, KeyAlgorithm, TrustedEntry, WriteOptions, generate::key_entry};

    fn entry(alias: &str) -> KeyEntry {
        let dn = DistinguishedName::parse(&format!("CN={alias}, O=Acme, C=DE")).unwrap();
        key_entry(alias, KeyAlgorithm::EcP256, &dn, 100).unwrap()
    }

    /// A keystore of `kind` with the keys `upload` and `old` and a trusted `root`, the keys
    /// under `key_pass` (JKS) and the file under `store_pass`.
    fn written(
        kind: KeystoreType,
        encryption: Pkcs12Encryption,
        store_pass: &str,
        key_pass: &str,
    ) -> (Vec<u8>, Vec<KeyEntry>) {
        let keys = vec![entry("upload"), entry("old")];
        let trusted = vec![TrustedEntry {
            alias: "root".into(),
            created: None,
            certificate: entry("root").chain.remove(0),
        }];
        let options = WriteOptions {
            kind,
            store_password: Password::new(store_pass),
            key_password: Some(Password::new(key_pass)),
            pkcs12_encryption: encryption,
        };
        (crate::write(&keys, &trusted, &options).unwrap(), keys)
    }

    fn pw(s: &str) -> Password {
        Password::new(s)
    }

    #[test]
    fn jks_written_back_unchanged_is_byte_identical() {
        let (bytes, _) = written(
            KeystoreType::Jks,
            Pkcs12Encryption::Modern,
            "store1",
            "key1",
        );
        let store = Keystore::open(&bytes, Some(&pw("store1"))).unwrap();
        assert_eq!(store.to_bytes(&pw("store1")).unwrap(), bytes);
    }

    #[test]
    fn jks_new_store_password_keeps_key_passwords() {
        let (bytes, keys) = written(
            KeystoreType::Jks,
            Pkcs12Encryption::Modern,
            "store1",
            "key1",
        );
        let store = Keystore::open(&bytes, Some(&pw("store1"))).unwrap();
        let out = store.to_bytes(&pw("store2")).unwrap();
        assert_eq!(
            Keystore::open(&out, Some(&pw("store1"))).unwrap_err(),
            FormatError::WrongStorePassword
        );
        let again = Keystore::open(&out, Some(&pw("store2"))).unwrap();
        assert_eq!(again.aliases(), ["upload", "old", "root"]);
        let key = again.unlock(Some("upload"), &pw("key1")).unwrap();
        assert_eq!(key.key.pkcs8_der(), keys[0].key.pkcs8_der());
        assert_eq!(
            again.entries()[0].created(),
            store.entries()[0].created(),
            "creation times are kept"
        );
    }

    #[test]
    fn jks_key_password_changes_for_one_key_only() {
        let (bytes, keys) = written(
            KeystoreType::Jks,
            Pkcs12Encryption::Modern,
            "store1",
            "key1",
        );
        let mut store = Keystore::open(&bytes, Some(&pw("store1"))).unwrap();
        let alias = store
            .change_key_password(Some("OLD"), &pw("key1"), &pw("key2"))
            .unwrap();
        assert_eq!(alias, "old");
        let again =
            Keystore::open(&store.to_bytes(&pw("store1")).unwrap(), Some(&pw("store1"))).unwrap();
        assert_eq!(
            again.unlock(Some("old"), &pw("key1")).unwrap_err(),
            FormatError::WrongKeyPassword {
                alias: "old".into()
            }
        );
        let key = again.unlock(Some("old"), &pw("key2")).unwrap();
        assert_eq!(key.key.pkcs8_der(), keys[1].key.pkcs8_der());
        assert!(again.unlock(Some("upload"), &pw("key1")).is_ok());
    }

    #[test]
    fn jks_wrong_old_key_password_changes_nothing() {
        let (bytes, _) = written(
            KeystoreType::Jks,
            Pkcs12Encryption::Modern,
            "store1",
            "key1",
        );
        let mut store = Keystore::open(&bytes, Some(&pw("store1"))).unwrap();
        assert_eq!(
            store
                .change_key_password(Some("upload"), &pw("nope"), &pw("key2"))
                .unwrap_err(),
            FormatError::WrongKeyPassword {
                alias: "upload".into()
            }
        );
        assert_eq!(store.to_bytes(&pw("store1")).unwrap(), bytes);
    }

    #[test]
    fn pkcs12_key_password_is_refused() {
        let (bytes, _) = written(
            KeystoreType::Pkcs12,
            Pkcs12Encryption::Modern,
            "store1",
            "store1",
        );
        let mut store = Keystore::open(&bytes, Some(&pw("store1"))).unwrap();
        assert_eq!(
            store
                .change_key_password(Some("upload"), &pw("store1"), &pw("key2"))
                .unwrap_err(),
            FormatError::Pkcs12KeyPassword
        );
        assert!(
            FormatError::Pkcs12KeyPassword
                .to_string()
                .contains("Different store and key passwords not supported for PKCS12 KeyStores")
        );
    }

    #[test]
    fn pkcs12_new_store_password_reencrypts_keys_with_the_files_algorithms() {
        for encryption in [Pkcs12Encryption::Modern, Pkcs12Encryption::Legacy] {
            let (bytes, keys) = written(KeystoreType::Pkcs12, encryption, "store1", "store1");
            let store = Keystore::open(&bytes, Some(&pw("store1"))).unwrap();
            assert_eq!(store.pkcs12_encryption, encryption);
            let out = store.to_bytes(&pw("store2")).unwrap();
            assert_eq!(
                Keystore::open(&out, Some(&pw("store1"))).unwrap_err(),
                FormatError::WrongStorePassword
            );
            let again = Keystore::open(&out, Some(&pw("store2"))).unwrap();
            assert_eq!(again.pkcs12_encryption, encryption, "{encryption:?}");
            assert_eq!(sorted(again.aliases()), ["old", "root", "upload"]);
            let key = again.unlock(Some("upload"), &pw("store2")).unwrap();
            assert_eq!(key.key.pkcs8_der(), keys[0].key.pkcs8_der());
            assert_eq!(key.chain, keys[0].chain);
        }
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[test]
    fn rename_and_delete_in_both_types() {
        for kind in [KeystoreType::Jks, KeystoreType::Pkcs12] {
            let (bytes, keys) = written(kind, Pkcs12Encryption::Modern, "store1", "store1");
            let mut store = Keystore::open(&bytes, Some(&pw("store1"))).unwrap();
            let stored = store.rename("upload", "Release").unwrap();
            let expected = if kind == KeystoreType::Jks {
                "release"
            } else {
                "Release"
            };
            assert_eq!(stored, expected);
            let deleted = store.delete("old").unwrap();
            assert_eq!(deleted.alias(), "old");
            let again =
                Keystore::open(&store.to_bytes(&pw("store1")).unwrap(), Some(&pw("store1")))
                    .unwrap();
            assert_eq!(
                sorted(again.aliases()),
                sorted(vec![expected.into(), "root".into()])
            );
            let key = again.unlock(Some(expected), &pw("store1")).unwrap();
            assert_eq!(key.key.pkcs8_der(), keys[0].key.pkcs8_der());
        }
    }

    #[test]
    fn rename_refuses_a_taken_alias_and_a_missing_one() {
        let (bytes, _) = written(KeystoreType::Pkcs12, Pkcs12Encryption::Modern, "s1", "s1");
        let mut store = Keystore::open(&bytes, Some(&pw("s1"))).unwrap();
        assert_eq!(
            store.rename("upload", "ROOT").unwrap_err(),
            FormatError::AliasExists {
                alias: "root".into()
            }
        );
        assert!(matches!(
            store.rename("nope", "x").unwrap_err(),
            FormatError::AliasNotFound { alias, .. } if alias == "nope"
        ));
        assert_eq!(
            store.rename("upload", "").unwrap_err(),
            FormatError::InvalidParameter("an alias cannot be empty".into())
        );
        // A change of case only is the same entry.
        assert_eq!(store.rename("upload", "Upload").unwrap(), "Upload");
        assert!(matches!(
            store.delete("gone").unwrap_err(),
            FormatError::AliasNotFound { alias, .. } if alias == "gone"
        ));
    }

    #[test]
    fn set_key_entry_checks_key_chain_and_alias() {
        for kind in [KeystoreType::Jks, KeystoreType::Pkcs12] {
            let mut store = Keystore::new(kind, Pkcs12Encryption::Legacy);
            let first = entry("upload");
            store
                .set_key_entry(first.clone(), &pw("key1"), false)
                .unwrap();

            let mut mismatched = entry("other");
            mismatched.chain = first.chain.clone();
            assert_eq!(
                store
                    .set_key_entry(mismatched, &pw("key1"), false)
                    .unwrap_err(),
                FormatError::KeyCertificateMismatch {
                    subject: "CN=upload, O=Acme, C=DE".into()
                }
            );

            let mut disordered = entry("second");
            disordered.chain.push(first.chain[0].clone());
            assert_eq!(
                store
                    .set_key_entry(disordered, &pw("key1"), false)
                    .unwrap_err(),
                FormatError::InvalidParameter(
                    "certificate 2 of the chain (`CN=upload, O=Acme, C=DE`) is not the issuer \
                     of certificate 1 (issued by `CN=second, O=Acme, C=DE`): give the chain \
                     leaf first, each certificate followed by its issuer"
                        .into()
                )
            );

            let replacement = KeyEntry {
                alias: "UPLOAD".into(),
                ..entry("replacement")
            };
            assert_eq!(
                store
                    .set_key_entry(replacement.clone(), &pw("key1"), false)
                    .unwrap_err(),
                FormatError::AliasExists {
                    alias: "upload".into()
                }
            );
            store
                .set_key_entry(replacement.clone(), &pw("key1"), true)
                .unwrap();
            let bytes = store.to_bytes(&pw("store1")).unwrap();
            let again = Keystore::open(&bytes, Some(&pw("store1"))).unwrap();
            assert_eq!(again.entries().len(), 1, "{kind:?}");
            if kind == KeystoreType::Pkcs12 {
                assert_eq!(again.pkcs12_encryption, Pkcs12Encryption::Legacy);
            }
            let key_pass = if kind == KeystoreType::Jks {
                "key1"
            } else {
                "store1"
            };
            let key = again.unlock(None, &pw(key_pass)).unwrap();
            assert_eq!(key.key.pkcs8_der(), replacement.key.pkcs8_der());
        }
    }

    #[test]
    fn refuses_to_write_what_it_could_not_check_or_without_a_password() {
        let (bytes, _) = written(
            KeystoreType::Jks,
            Pkcs12Encryption::Modern,
            "store1",
            "key1",
        );
        let listed = Keystore::open(&bytes, None).unwrap();
        assert_eq!(
            listed.to_bytes(&pw("store1")).unwrap_err(),
            FormatError::StorePasswordRequired
        );
        let mut store = Keystore::open(&bytes, Some(&pw("store1"))).unwrap();
        assert_eq!(
            store.to_bytes(&pw("")).unwrap_err(),
            FormatError::InvalidParameter(
                "the new store password is empty; a keystore is written with a password".into()
            )
        );
        assert_eq!(
            store
                .change_key_password(Some("upload"), &pw("key1"), &pw(""))
                .unwrap_err(),
            FormatError::InvalidParameter(
                "the new key password is empty; a keystore is written with a password".into()
            )
        );
    }

    #[test]
    fn key_entry_from_pem_files() {
        let e = entry("upload");
        let key_pem = pem::encode("PRIVATE KEY", e.key.pkcs8_der());
        let ca = entry("ca").chain.remove(0);
        let chain_pem = format!("{}{}", e.chain[0].to_pem(), ca.to_pem());
        let read =
            KeyEntry::from_key_and_chain("a", key_pem.as_bytes(), chain_pem.as_bytes()).unwrap();
        assert_eq!(read.key.pkcs8_der(), e.key.pkcs8_der());
        assert_eq!(read.chain, vec![e.chain[0].clone(), ca]);
        // One DER certificate is a chain of one.
        let read = KeyEntry::from_key_and_chain("a", e.key.pkcs8_der(), e.chain[0].der()).unwrap();
        assert_eq!(read.chain, e.chain);
    }
}
