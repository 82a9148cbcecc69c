//! Certificates for the TLS tests, made with rcgen: a CA, and leaves it signs with whatever
//! extended key usage and names a test asks for (including none, as `certs` never makes).

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair,
};

pub use rcgen::ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};

/// A CA: its certificate (PEM) and what signs with it.
pub struct Ca {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A leaf: its certificate (PEM and DER) and key (PEM).
pub struct Leaf {
    pub pem: String,
    pub der: Vec<u8>,
    pub key: String,
}

impl Ca {
    pub fn new() -> Ca {
        let key = KeyPair::generate().expect("a key");
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let cert = params.self_signed(&key).expect("self-signed");
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf valid for `names` (IPs or DNS names) listing `usages` in its extended key
    /// usage, with no such extension at all if `usages` is empty.
    pub fn leaf(&self, names: &[&str], usages: &[ExtendedKeyUsagePurpose]) -> Leaf {
        self.leaf_with(names, usages, Vec::new())
    }

    /// `leaf`, with `extra` extensions written as they are.
    pub fn leaf_with(
        &self,
        names: &[&str],
        usages: &[ExtendedKeyUsagePurpose],
        extra: Vec<CustomExtension>,
    ) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("valid names");
        params.is_ca = IsCa::ExplicitNoCa;
        params.extended_key_usages = usages.to_vec();
        params.custom_extensions = extra;
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &self.issuer).expect("signed");
        Leaf {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            key: key.serialize_pem(),
        }
    }
}
