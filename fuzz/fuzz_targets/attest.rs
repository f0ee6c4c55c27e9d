//! What a held key is asked to sign (`POST …/sign`'s messages, from any developer or
//! robot): every purpose's parser on arbitrary bytes, against a fixed certificate.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use signet_formats::{
    Certificate, DistinguishedName, KeyAlgorithm, Purpose, SignatureScheme, generate,
};

fn leaf() -> &'static Certificate {
    static LEAF: OnceLock<Certificate> = OnceLock::new();
    LEAF.get_or_init(|| {
        let dn = DistinguishedName::parse("CN=fuzz").expect("a name");
        let mut entry =
            generate::key_entry("k", KeyAlgorithm::EcP256, &dn, 30).expect("a key entry");
        entry.chain.remove(0)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, message)) = data.split_first() else {
        return;
    };
    let purpose = Purpose::ALL[usize::from(selector) % Purpose::ALL.len()];
    let scheme = if selector & 0x80 == 0 {
        SignatureScheme::EcdsaSha256
    } else {
        SignatureScheme::RsaPkcs1Sha512
    };
    let _ = signet_sign::attest(purpose, scheme, message, leaf());
});
