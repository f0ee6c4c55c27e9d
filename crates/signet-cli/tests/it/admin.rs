//! `signet admin`: master key rotation in the data dir.

use crate::util::Dir;

#[test]
fn rotate_key_adds_a_current_key_and_keeps_the_file_private() {
    let dir = Dir::new();
    let v = dir
        .signet(&[
            "admin",
            "rotate-key",
            "--data-dir",
            "data",
            "--key-id",
            "k2",
            "--json",
        ])
        .json();
    // The first rotation of a data dir without secrets creates the file with a key of a
    // random id, then adds k2.
    let first = v["previous"].as_str().unwrap().to_owned();
    assert!(first.starts_with("k-") && first.len() == 14, "{v}");
    assert_eq!(v["current"], "k2");
    assert_eq!(v["key_ids"], serde_json::json!([first, "k2"]));
    // Without --key-id, a random one that is new.
    let v = dir
        .signet(&["admin", "rotate-key", "--data-dir", "data", "--json"])
        .json();
    assert_eq!(v["previous"], "k2");
    let third = v["current"].as_str().unwrap();
    assert!(
        third.starts_with("k-") && third.len() == 14 && third != first,
        "{v}"
    );
    assert_eq!(v["key_ids"].as_array().unwrap().len(), 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path("data/master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Keys never reach the output.
    let file = String::from_utf8(dir.read("data/master.key")).unwrap();
    let key = file
        .split('"')
        .find(|s| s.len() == 44)
        .expect("a base64 key in the file");
    let human = dir
        .signet(&[
            "admin",
            "rotate-key",
            "--data-dir",
            "data",
            "--key-id",
            "k9",
        ])
        .ok();
    assert!(!human.contains(key), "{human}");
    // An id in use is refused and changes nothing.
    let before = dir.read("data/master.key");
    let err = dir
        .signet(&[
            "admin",
            "rotate-key",
            "--data-dir",
            "data",
            "--key-id",
            "k2",
        ])
        .fails_with(2);
    assert!(err.contains("k2"), "{err}");
    assert_eq!(dir.read("data/master.key"), before);
}
