//! Access tokens and passwords.
//!
//! Tokens look like `sgu_<32 base62>` (a user's session) or `sgr_<32 base62>` (a robot),
//! the last 6 characters being a base62 CRC-32 of the rest, so a scanner can tell a
//! leaked signet token from random text without asking the server (as GitHub's tokens
//! do). The server keeps only the SHA-256 of a token: 26 random base62 characters carry
//! 154 bits of entropy, so a fast hash is enough; passwords are hashed with Argon2id.

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, SaltString},
};
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

/// Argon2's working memory (19 MiB with the default parameters), kept by a hashing thread
/// and reused by every hash it runs. Allocating and freeing it per hash leaves the
/// allocator holding freed 19 MiB blocks that smaller allocations then split, so that the
/// next hash needs fresh memory: resident memory grew by hundreds of MiB under a flood of
/// logins with only two hashes running at a time.
#[derive(Default)]
pub struct ArgonMemory(Vec<Block>);

impl ArgonMemory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let n = params.block_count();
        if self.0.len() != n {
            self.0 = vec![Block::default(); n];
        }
        &mut self.0
    }
}

/// Hashes a password with Argon2id (the crate's defaults: 19 MiB, 2 passes) in `memory`.
pub fn hash_password_with(password: &str, memory: &mut ArgonMemory) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| StoreError::Crypto("random number generator"))?;
    let salt_string =
        SaltString::encode_b64(&salt).map_err(|_| StoreError::Crypto("password salt"))?;
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let hash = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), &salt, out, memory.blocks(&params))
            .map_err(Into::into)
    })
    .map_err(|_| StoreError::Crypto("password hashing"))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|_| StoreError::Crypto("password hashing"))?,
        salt: Some(salt_string.as_salt()),
        hash: Some(hash),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches a stored Argon2 hash (PHC string), computed in `memory`;
/// the comparison takes constant time.
pub fn verify_password_with(password: &str, stored: &str, memory: &mut ArgonMemory) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm) else {
        return false;
    };
    let Ok(version) = phc.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(&phc) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, memory.blocks(&params))
            .map_err(Into::into)
    })
    .is_ok_and(|computed| computed == expected)
}

/// [`hash_password_with`] in memory of its own.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    hash_password_with(password, &mut ArgonMemory::default())
}

/// [`verify_password_with`] in memory of its own.
pub fn verify_password(password: &str, stored: &str) -> bool {
    verify_password_with(password, stored, &mut ArgonMemory::default())
}

/// A hash to verify against when the user does not exist, so that the time a failed login
/// takes does not tell which e-mails have accounts. Made once, with the same parameters
/// as real hashes.
pub fn dummy_hash(memory: &mut ArgonMemory) -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password_with("no user has this password", memory).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher as _, PasswordVerifier as _};

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
        let mut memory = ArgonMemory::default();
        assert!(dummy_hash(&mut memory).starts_with("$argon2id$"));
        assert!(!verify_password_with(
            "x",
            dummy_hash(&mut memory),
            &mut memory
        ));
        // Hashes made by the argon2 crate's own PasswordHasher verify, and ours verify
        // with its PasswordVerifier: the PHC strings are the same format.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password_with("correct horse", &theirs, &mut memory));
        assert!(!verify_password_with("correct horsE", &theirs, &mut memory));
        let ours = hash_password_with("correct horse", &mut memory).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &PasswordHash::new(&ours).unwrap())
                .is_ok()
        );
    }
}
