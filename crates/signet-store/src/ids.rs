//! The ids the store mints: a prefix that says what is identified, `_`, and 24 lower-case
//! hex digits (12 random bytes), as `org_5f0c9a…`. Each kind is a type of its own, so an
//! app's id cannot be passed where a credential's is expected: that does not compile.
//!
//! An id is made only by the store, when it mints one or reads one back from its rows, or
//! by `parse` (also `FromStr` and `Deserialize`) from a path or a JSON value, which refuses
//! anything the store could not have minted with [`InvalidId`]. Ids serialize as the
//! strings they are, and bind to queries as text.
//!
//! A credential's id reads a credential:
//!
//! ```
//! # use signet_store::{Credential, OrgId, Store, StoreError};
//! # async fn read(store: &Store, org: &OrgId, c: &Credential) -> Result<(), StoreError> {
//! store.credential(org, &c.id, false).await?;
//! # Ok(()) }
//! ```
//!
//! An app's id does not compile there (nor an organization's):
//!
//! ```compile_fail
//! # use signet_store::{App, OrgId, Store, StoreError};
//! # async fn read(store: &Store, org: &OrgId, app: &App) -> Result<(), StoreError> {
//! store.credential(org, &app.id, false).await?;
//! # Ok(()) }
//! ```
//!
//! ```compile_fail
//! # use signet_store::{Credential, OrgId, Store, StoreError};
//! # async fn read(store: &Store, org: &OrgId, c: &Credential) -> Result<(), StoreError> {
//! store.credential(org, org, false).await?;
//! # Ok(()) }
//! ```

use std::fmt;

use sqlx::{Any, Database, Decode, Encode, Type, encode::IsNull, error::BoxDynError};

use crate::{StoreError, secrets::random_hex};

/// The random part of an id, in bytes (twice as many hex digits).
const RANDOM_BYTES: usize = 12;

/// A string that is not an id of the kind asked for. It names the kind and the form, never
/// the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidId {
    what: &'static str,
    prefix: &'static str,
}

impl InvalidId {
    /// What the id should have identified, with its article (`an organization`, …).
    pub fn what(&self) -> &'static str {
        self.what
    }
}

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not {} id (`{}_` and {} lower-case hex digits)",
            self.what,
            self.prefix,
            2 * RANDOM_BYTES
        )
    }
}

impl std::error::Error for InvalidId {}

/// Whether `s` is `prefix`, `_` and the hex digits of the random part.
fn well_formed(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|hex| {
            hex.len() == 2 * RANDOM_BYTES
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident: $prefix:literal, $what:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The prefix of every id of this kind (before its `_`).
            pub const PREFIX: &'static str = $prefix;

            /// A new random id.
            pub(crate) fn mint() -> Result<$name, StoreError> {
                Ok($name(format!("{}_{}", $prefix, random_hex(RANDOM_BYTES)?)))
            }

            /// Reads an id of this kind; anything the store could not have minted is
            /// refused.
            pub fn parse(s: &str) -> Result<$name, InvalidId> {
                if well_formed(s, $prefix) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(InvalidId { what: $what, prefix: $prefix })
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<$name, InvalidId> {
                $name::parse(s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        impl Type<Any> for $name {
            fn type_info() -> <Any as Database>::TypeInfo {
                <String as Type<Any>>::type_info()
            }
        }

        impl<'q> Encode<'q, Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                <String as Encode<'q, Any>>::encode_by_ref(&self.0, buf)
            }
        }

        /// Read back from a row: checked as a parsed id is, so a row the store did not
        /// write fails to read instead of passing for an id.
        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<$name, BoxDynError> {
                let s = <String as Decode<'r, Any>>::decode(value)?;
                Ok($name::parse(&s)?)
            }
        }
    )*};
}

ids! {
    /// An organization's id (`org_…`).
    OrgId: "org", "an organization";
    /// A user's id (`usr_…`).
    UserId: "usr", "a user";
    /// An app's id (`app_…`). (Paths name an app by id or slug; see [`crate::Store::app`].)
    AppId: "app", "an app";
    /// A credential's id (`cred_…`), of any type, Apple teams included.
    CredentialId: "cred", "a credential";
    /// An access token's id (`tok_…`): a user's login session or a robot token, which
    /// live in one table and share the prefix.
    TokenId: "tok", "a token";
    /// An Android build credential set's id (`bset_…`).
    BuildSetId: "bset", "a build set";
    /// An iOS build credential pair's id (`pair_…`).
    BuildPairId: "pair", "a build pair";
    /// An Apple certificate request's id (`csr_…`): a private key made on the server and
    /// the CSR handed out for it.
    CertificateRequestId: "csr", "a certificate request";
}

/// An id as a client names it in a request body (`keystore_id`, `app_ids`, …): an id of
/// its kind, or a value that cannot be one and so names nothing. The store refuses the
/// latter where it refuses an id of nothing, with the same answer (naming the field and
/// the value), so its other checks keep their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named<I> {
    /// A well-formed id (which may still name nothing in the organization).
    Id(I),
    /// A value that is no id of this kind.
    Nothing(String),
}

impl<I: std::str::FromStr> Named<I> {
    /// Reads a value from a request body.
    pub fn parse(value: &str) -> Named<I> {
        match value.parse() {
            Ok(id) => Named::Id(id),
            Err(_) => Named::Nothing(value.to_owned()),
        }
    }
}

/// Any string: what it names is the store's to say. (Another JSON type is refused as a
/// `String` field's would be.)
impl<'de, I: std::str::FromStr> serde::Deserialize<'de> for Named<I> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Named<I>, D::Error> {
        String::deserialize(d).map(|value| Named::parse(&value))
    }
}

impl<I> From<I> for Named<I> {
    fn from(id: I) -> Named<I> {
        Named::Id(id)
    }
}

/// `field` names no credential of the organization.
pub(crate) fn no_such_credential(field: &'static str, id: &str) -> StoreError {
    StoreError::Invalid {
        field,
        reason: format!("no credential `{id}` in this organization"),
    }
}

/// `field` names no app of the organization.
pub(crate) fn no_such_app(field: &'static str, id: &str) -> StoreError {
    StoreError::Invalid {
        field,
        reason: format!("no app `{id}` in this organization"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_parse_as_their_kind_only() {
        let org = OrgId::mint().unwrap();
        assert_eq!(org.as_str().len(), "org_".len() + 24);
        assert_eq!(OrgId::parse(org.as_str()).unwrap(), org);
        let cred = CredentialId::mint().unwrap();
        assert_eq!(CredentialId::parse(cred.as_str()).unwrap(), cred);
        assert_eq!(
            AppId::parse(cred.as_str()).unwrap_err().to_string(),
            "not an app id (`app_` and 24 lower-case hex digits)"
        );
        assert_eq!(
            OrgId::parse(cred.as_str()).unwrap_err().what(),
            "an organization"
        );
    }

    #[test]
    fn refuses_what_the_store_does_not_mint() {
        let good = "0123456789abcdef01234567";
        assert!(CredentialId::parse(&format!("cred_{good}")).is_ok());
        for bad in [
            String::new(),
            "cred_".to_owned(),
            format!("cred{good}"),
            format!("cred-{good}"),
            format!("CRED_{good}"),
            format!("cred_{}", good.to_uppercase()),
            format!("cred_{}", &good[1..]),
            format!("cred_{good}0"),
            format!("cred_{}g", &good[1..]),
            format!(" cred_{good}"),
            format!("cred_{good}\n"),
            format!("credx_{good}"),
            format!("cred_{}é", &good[2..]),
        ] {
            assert_eq!(
                CredentialId::parse(&bad),
                Err(InvalidId {
                    what: "a credential",
                    prefix: "cred"
                }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn serde_is_the_string_and_checks_it() {
        let id = UserId::parse("usr_00112233445566778899aabb").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"usr_00112233445566778899aabb\""
        );
        let back: UserId = serde_json::from_str("\"usr_00112233445566778899aabb\"").unwrap();
        assert_eq!(back, id);
        let err = serde_json::from_str::<UserId>("\"tok_00112233445566778899aabb\"").unwrap_err();
        assert!(err.to_string().starts_with("not a user id"), "{err}");
        assert_eq!(format!("{id}"), "usr_00112233445566778899aabb");
        assert_eq!(
            format!("{id:?}"),
            "UserId(\"usr_00112233445566778899aabb\")"
        );
    }
}
