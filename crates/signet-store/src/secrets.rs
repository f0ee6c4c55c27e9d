//! Access tokens and passwords.
//!
//! Tokens look like `sgu_<32 base62>` (a user's session) or `sgr_<32 base62>` (a robot),
//! the last 6 characters being a base62 CRC-32 of the rest, so a scanner can tell a
//! leaked signet token from random text without asking the server (as GitHub's tokens
//! do). The server keeps only the SHA-256 of a token: 26 random base62 characters carry
//! 154 bits of entropy, so a fast hash is enough; passwords are hashed with Argon2id.

use argon2::{Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use zeroize::Zeroizing;

use crate::StoreError;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY: usize = 32;
const CHECK: usize = 6;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A user's login.
    Session,
    /// A robot (CI) token.
    Robot,
    /// The one-time setup token printed at first start.
    Setup,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Session => "sgu_",
            TokenKind::Robot => "sgr_",
            TokenKind::Setup => "sgs_",
        }
    }

    /// The name stored in the database.
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Robot => "robot",
            TokenKind::Setup => "setup",
        }
    }
}

fn base62(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).unwrap_or_default()
}

fn checksum(text: &str) -> String {
    base62(u64::from(crc32fast::hash(text.as_bytes())), CHECK)
}

/// Fills `bytes` from the operating system's random number generator.
pub fn fill_random(bytes: &mut [u8]) -> Result<(), StoreError> {
    aws_lc_rs::rand::fill(bytes).map_err(|_| StoreError::Crypto("random number generator"))
}

/// `bytes` random bytes as lower-case hex (ids, request ids).
pub fn random_hex(bytes: usize) -> Result<String, StoreError> {
    let mut b = vec![0u8; bytes];
    fill_random(&mut b)?;
    Ok(signet_formats::hex_lower(&b))
}

/// Mints a new token of `kind`.
pub fn mint(kind: TokenKind) -> Result<Zeroizing<String>, StoreError> {
    let mut random = [0u8; BODY];
    aws_lc_rs::rand::fill(&mut random)
        .map_err(|_| StoreError::Crypto("random number generator"))?;
    let mut token = Zeroizing::new(String::with_capacity(4 + BODY + CHECK));
    token.push_str(kind.prefix());
    // Rejection sampling keeps every character uniform.
    let mut filled = 0;
    while filled < BODY - CHECK {
        for b in random {
            if filled == BODY - CHECK {
                break;
            }
            if b < 248 {
                token.push(char::from(ALPHABET[usize::from(b % 62)]));
                filled += 1;
            }
        }
        aws_lc_rs::rand::fill(&mut random)
            .map_err(|_| StoreError::Crypto("random number generator"))?;
    }
    let check = checksum(&token);
    token.push_str(&check);
    Ok(token)
}

/// Checks a presented token's shape and checksum: which kind it is, or `None` when it
/// cannot be a signet token (so the database is not asked).
pub fn parse(token: &str) -> Option<TokenKind> {
    let kind = [TokenKind::Session, TokenKind::Robot, TokenKind::Setup]
        .into_iter()
        .find(|k| token.starts_with(k.prefix()))?;
    if token.len() != 4 + BODY || !token[4..].bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (body, check) = token.split_at(4 + BODY - CHECK);
    (checksum(body) == check).then_some(kind)
}

/// The stored form of a token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    signet_formats::hex_lower(digest.as_ref())
}

/// Hashes a password with Argon2id (the crate's defaults: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| StoreError::Crypto("random number generator"))?;
    let salt = argon2::password_hash::SaltString::encode_b64(&salt)
        .map_err(|_| StoreError::Crypto("password salt"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| StoreError::Crypto("password hashing"))
}

/// Whether `password` matches a stored Argon2 hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so that the time a failed login
/// takes does not tell which e-mails have accounts. Made once, with the same parameters
/// as real hashes.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no user has this password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_kind_and_a_checksum() {
        let t = mint(TokenKind::Robot).unwrap();
        assert!(t.starts_with("sgr_"));
        assert_eq!(t.len(), 36);
        assert_eq!(parse(&t), Some(TokenKind::Robot));
        // One changed character breaks the checksum.
        let mut bad = t.to_string();
        let c = if bad.as_bytes()[10] == b'A' { "B" } else { "A" };
        bad.replace_range(10..11, c);
        assert_ne!(bad, *t);
        assert_eq!(parse(&bad), None);
        assert_eq!(parse("sgr_short"), None);
        assert_eq!(parse("Bearer nonsense"), None);
        assert_ne!(mint(TokenKind::Robot).unwrap(), t);
        assert_eq!(token_hash(&t).len(), 64);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horse!", &h));
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!verify_password("x", dummy_hash()));
    }
}
