//! Errors of the store.

use std::path::PathBuf;

/// What went wrong. Messages name keys by id, never by value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The ciphertext, its wrapped key or its binding was changed, or it belongs to another
    /// record: authentication failed and no data is returned.
    #[error("sealed data failed authentication (changed, or moved from another record)")]
    Tampered,
    /// The record was sealed under a master key that is not loaded.
    #[error("master key `{0}` is not loaded; add it to the key file or SIGNET_MASTER_KEY")]
    MissingKey(String),
    /// A sealed blob that is not in signet's format.
    #[error("malformed sealed data: {0}")]
    Malformed(&'static str),
    /// A key file or key string that cannot be used.
    #[error("invalid master key configuration: {0}")]
    BadKeyConfig(String),
    /// The master key file is not there (or, while a server runs, can no longer be read).
    /// [`Keyring::load`](crate::Keyring::load) reports a missing file so; a running store
    /// keeps opening secrets with the keys it has loaded but refuses to seal new ones
    /// (HTTP 503) until the file is back. Nothing ever creates a key in its place.
    #[error(
        "the master key file {} is missing or cannot be read; nothing new can be sealed until it is restored",
        .0.display()
    )]
    KeyFileMissing(PathBuf),
    /// The master key file is missing and the database holds secrets sealed under master
    /// keys: a new key could not open them, so none is made and the store is not opened.
    #[error(
        "the master key file {} is missing, and the database holds secrets sealed under key ids {}; \
         restore the file (or set SIGNET_MASTER_KEY), do not start without it",
        .path.display(),
        describe_usage(.sealed)
    )]
    KeyFileNeeded {
        /// The key file that is missing.
        path: PathBuf,
        /// Each key id the database holds secrets under, with how many.
        sealed: Vec<(String, i64)>,
    },
    /// The database records master keys this server does not hold (another replica made
    /// its own key, or the key file is another data dir's): what it sealed could not be
    /// opened by the others.
    #[error(
        "this server's master keys are not the ones the database records: {}; every replica must have the same key file (or SIGNET_MASTER_KEY)",
        .0.join(", ")
    )]
    ForeignKeys(Vec<String>),
    /// A key id used twice, or not a valid id.
    #[error("invalid master key id `{0}`")]
    BadKeyId(String),
    /// Reading or writing the key file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No such record in this organization.
    #[error("not found")]
    NotFound,
    /// The record changed since it was read (a stale If-Match).
    #[error("the record was changed by someone else; read it again")]
    Conflict,
    /// Replacing a versioned record needs the version that was read (HTTP 428).
    #[error("the record exists; name the version you read to replace it")]
    VersionRequired,
    /// A database URL signet does not support.
    #[error("unsupported database URL: {0}")]
    BadDatabaseUrl(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A credential row whose stored metadata is not what its type derives (changed in
    /// the database, or written by another version of signet): it cannot be shown.
    #[error("credential {id}: the stored metadata is not a {kind}'s: {reason}")]
    BadMetadata {
        /// The credential.
        id: String,
        /// Its type.
        kind: &'static str,
        /// What does not parse.
        reason: String,
    },
    /// An upload or request field that cannot be accepted (HTTP 422).
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why, without secret values.
        reason: String,
    },
    /// A limit is reached (HTTP 409).
    #[error("limit reached: at most {max} {limit}; held by {}", occupied_by.join(", "))]
    Limit {
        /// What is limited (`distribution certificates per Apple team`).
        limit: String,
        /// The maximum.
        max: usize,
        /// What occupies it.
        occupied_by: Vec<String>,
    },
    /// Something with this name or identity already exists (HTTP 409).
    #[error("already exists: {0}")]
    Exists(String),
    /// The request breaks a rule of the current state (HTTP 409), e.g. removing the last
    /// owner.
    #[error("{0}")]
    Rule(Rule),
    /// The caller may not act on this (HTTP 403), e.g. a robot limited to other apps.
    #[error("{0}")]
    Forbidden(String),
    /// Wrong e-mail or password, or an unknown, revoked or expired token.
    #[error("not authenticated")]
    Unauthenticated,
    /// The audit record could not be written, so the request did not happen.
    #[error("the audit record could not be written: {0}")]
    AuditFailed(String),
    /// The crypto backend failed.
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
    /// Too much work of this kind is waiting (password hashing): try again later (HTTP 503).
    #[error("the server is busy; try again in {} s", retry_after.as_secs().max(1))]
    Busy {
        /// When to try again.
        retry_after: std::time::Duration,
    },
    /// Too many attempts for this key (logins): refused until the window ends (HTTP 429).
    #[error("too many attempts; try again in {} s", retry_after.as_secs().max(1))]
    Throttled {
        /// When the window ends.
        retry_after: std::time::Duration,
    },
    /// First-run setup is over: users exist (HTTP 410).
    #[error("setup is done: this server has users; log in instead")]
    SetupClosed,
}

/// `k1 (3 secrets), k-0a1b2c3d4e5f (1 secret)`.
fn describe_usage(usage: &[(String, i64)]) -> String {
    usage
        .iter()
        .map(|(id, n)| format!("{id} ({n} secret{})", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A rule of the current state that a request would break. Each has a stable slug (the
/// problem `type` the server answers with) and a message that says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rule {
    /// An organization keeps at least one owner.
    #[error("an organization keeps at least one owner; make someone else owner first")]
    LastOwner,
    /// The default build set of an application id goes last.
    #[error("this is the default build set; make another one the default first")]
    DefaultBuildSet,
    /// A build set points at a deleted keystore.
    #[error("build set `{build_set}` points at a deleted keystore; restore it or assign another")]
    DeletedKeystore {
        /// The build set.
        build_set: String,
    },
    /// A build pair points at a deleted certificate or profile.
    #[error(
        "the {distribution} pair points at a deleted credential `{credential}`; restore it or assign another"
    )]
    DeletedInPair {
        /// The distribution type of the pair.
        distribution: String,
        /// The deleted credential.
        credential: String,
    },
    /// Restoring a credential that is not deleted.
    #[error("the credential is not deleted")]
    NotDeleted,
    /// Restoring a credential deleted longer ago than the restore window.
    #[error("the restore window of {days} days has passed")]
    RestoreWindowPassed {
        /// The window.
        days: u64,
    },
    /// A provider token asked of a bundle id whose push key is deleted.
    #[error("the push key {credential} of {bundle_id} is deleted; restore it or assign another")]
    DeletedPushKey {
        /// The bundle id.
        bundle_id: String,
        /// The deleted key.
        credential: String,
    },
    /// Opting an application id in to Play App Signing a second time.
    #[error(
        "{application_id} was opted in to Play App Signing on {on}: Google holds keystore {app_signing_keystore} as its app-signing key, and the upload key is its default build set; this is done once"
    )]
    PlayAppSigningDone {
        /// The application id.
        application_id: String,
        /// When (a date).
        on: String,
        /// The keystore marked as Google's app-signing key.
        app_signing_keystore: String,
    },
    /// Completing a certificate request that was completed before.
    #[error(
        "certificate request {request} was completed on {on} (credential {credential}); make a new request for another certificate"
    )]
    RequestCompleted {
        /// The request.
        request: String,
        /// When it was completed (a date).
        on: String,
        /// The credential made then.
        credential: String,
    },
}

impl Rule {
    /// The stable name of the rule: the last segment of the problem `type`.
    pub fn slug(&self) -> &'static str {
        match self {
            Rule::LastOwner => "last-owner",
            Rule::DefaultBuildSet => "default-build-set",
            Rule::DeletedKeystore { .. }
            | Rule::DeletedInPair { .. }
            | Rule::DeletedPushKey { .. } => "deleted-credential",
            Rule::NotDeleted => "not-deleted",
            Rule::RestoreWindowPassed { .. } => "restore-window-passed",
            Rule::RequestCompleted { .. } => "request-completed",
            Rule::PlayAppSigningDone { .. } => "play-app-signing-done",
        }
    }
}
