//! eas-cli's `credentials.json`, the file a project keeps its local build credentials in:
//!
//! ```json
//! { "android": { "keystore": { "keystorePath": "…", "keystorePassword": "…",
//!                              "keyAlias": "…", "keyPassword": "…" } },
//!   "ios": { "provisioningProfilePath": "…",
//!            "distributionCertificate": { "path": "…", "password": "…" } } }
//! ```
//!
//! signet reads the Android section and writes it while keeping every other key of an
//! existing file as it was.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{FormatError, Password, Result};

/// The `android.keystore` object.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AndroidKeystore {
    /// Path of the keystore, relative to the project directory (where credentials.json is).
    pub keystore_path: String,
    /// The store password.
    #[serde(with = "password_serde")]
    pub keystore_password: Password,
    /// The alias of the key entry.
    pub key_alias: String,
    /// The key password.
    #[serde(with = "password_serde")]
    pub key_password: Password,
}

impl std::fmt::Debug for AndroidKeystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AndroidKeystore")
            .field("keystore_path", &self.keystore_path)
            .field("key_alias", &self.key_alias)
            .finish_non_exhaustive()
    }
}

mod password_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Password;

    pub fn serialize<S: Serializer>(p: &Password, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Password, D::Error> {
        String::deserialize(d).map(Password::new)
    }
}

/// Reads `android.keystore` from a credentials.json, if present.
pub fn read_android_keystore(bytes: &[u8]) -> Result<Option<AndroidKeystore>> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| malformed(&e))?;
    match root.get("android").and_then(|a| a.get("keystore")) {
        None => Ok(None),
        Some(ks) => serde_json::from_value(ks.clone())
            .map(Some)
            .map_err(|e| malformed(&e)),
    }
}

/// Sets `android.keystore` in `existing` (or in a new file), keeping every other key.
/// Returns the new file, pretty-printed with two-space indents as eas-cli writes it.
pub fn with_android_keystore(
    existing: Option<&[u8]>,
    keystore: &AndroidKeystore,
) -> Result<Vec<u8>> {
    let mut root = match existing {
        Some(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => {
            serde_json::from_slice::<Value>(bytes).map_err(|e| malformed(&e))?
        }
        _ => Value::Object(Map::new()),
    };
    let root_obj = root.as_object_mut().ok_or_else(|| FormatError::Malformed {
        what: "credentials.json",
        detail: "the top level is not an object".into(),
    })?;
    let android = root_obj
        .entry("android")
        .or_insert_with(|| Value::Object(Map::new()));
    let android = android
        .as_object_mut()
        .ok_or_else(|| FormatError::Malformed {
            what: "credentials.json",
            detail: "`android` is not an object".into(),
        })?;
    let value = serde_json::to_value(keystore).map_err(|e| malformed(&e))?;
    android.insert("keystore".into(), value);
    let mut out = serde_json::to_vec_pretty(&root).map_err(|e| malformed(&e))?;
    out.push(b'\n');
    Ok(out)
}

fn malformed(e: &serde_json::Error) -> FormatError {
    // serde_json's own messages can quote a value (`invalid type: integer `123``), and a
    // value here may be a password: report only the kind of error and where.
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Syntax => "invalid JSON",
        Category::Eof => "JSON ends early",
        Category::Data => "unexpected value type (passwords and paths must be strings)",
        Category::Io => "read error",
    };
    let detail = if e.line() > 0 {
        format!("{kind} at line {} column {}", e.line(), e.column())
    } else {
        kind.to_owned()
    };
    FormatError::Malformed {
        what: "credentials.json",
        detail,
    }
}

/// Whether the file already has an `android.keystore` section.
pub fn has_android_keystore(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .is_some_and(|v| v.get("android").and_then(|a| a.get("keystore")).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AndroidKeystore {
        AndroidKeystore {
            keystore_path: "keystores/upload.jks".into(),
            keystore_password: Password::new("sp"),
            key_alias: "upload".into(),
            key_password: Password::new("kp"),
        }
    }

    #[test]
    fn writes_eas_field_names_and_keeps_other_sections() {
        let existing =
            br#"{"ios":{"provisioningProfilePath":"a.mobileprovision"},"android":{"other":1}}"#;
        let out = with_android_keystore(Some(existing), &sample()).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["ios"]["provisioningProfilePath"], "a.mobileprovision");
        assert_eq!(v["android"]["other"], 1);
        assert_eq!(
            v["android"]["keystore"]["keystorePath"],
            "keystores/upload.jks"
        );
        assert_eq!(v["android"]["keystore"]["keystorePassword"], "sp");
        assert_eq!(v["android"]["keystore"]["keyAlias"], "upload");
        assert_eq!(v["android"]["keystore"]["keyPassword"], "kp");
        let back = read_android_keystore(&out).unwrap().unwrap();
        assert_eq!(back.key_password.expose(), "kp");
    }

    #[test]
    fn refuses_a_file_that_is_not_an_object() {
        for (bytes, why) in [
            (&b"[1]"[..], "the top level is not an object"),
            (b"{\"android\":3}", "`android` is not an object"),
            (b"{", "JSON ends early"),
        ] {
            assert!(
                matches!(
                    with_android_keystore(Some(bytes), &sample()),
                    Err(FormatError::Malformed { what: "credentials.json", detail }) if detail.starts_with(why)
                ),
                "{why}"
            );
        }
    }

    #[test]
    fn errors_never_quote_values() {
        let bad = br#"{"android":{"keystore":{"keystorePath":"a","keystorePassword":987654321,"keyAlias":"k","keyPassword":"x"}}}"#;
        let err = read_android_keystore(bad).unwrap_err().to_string();
        assert!(!err.contains("987654321"), "{err}");
        assert!(err.contains("unexpected value type"), "{err}");
        let err = read_android_keystore(b"{\n  \"android\": [1,")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn debug_hides_passwords() {
        let entry = AndroidKeystore {
            keystore_password: Password::new("store-secret-1"),
            key_password: Password::new("key-secret-2"),
            ..sample()
        };
        let shown = format!("{entry:?}");
        assert!(!shown.contains("store-secret-1"), "{shown}");
        assert!(!shown.contains("key-secret-2"), "{shown}");
        // The rest is shown, so the check above is not passing on an empty string.
        assert!(
            shown.contains("keystores/upload.jks") && shown.contains("upload"),
            "{shown}"
        );
    }
}
