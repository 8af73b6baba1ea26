//! The per-session certificate (docs/wire-contract.md §2), as Boundary's `newCert` makes it.
//!
//! A fresh Ed25519 key per session; the certificate is self-signed with `CA:TRUE`, key usage
//! DigitalSignature|KeyEncipherment|KeyAgreement|CertSign, extended key usage
//! ServerAuth+ClientAuth, DNS SANs = the session id and the worker host names, IP SANs = the
//! worker IPs, valid from one minute ago until the session expires. Client and worker both
//! present it and pin its DER bytes.
//!
//! The controller issues them. This is a crate of its own so that the tests of
//! `boundary-net` and `boundary-worker` (and `boundary-net`'s scripted worker peer, its
//! `test-worker` feature) issue real ones without depending on the controller, and so
//! that rcgen stays out of the client agent.

use boundary_wire::api::Secret;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ED25519, SanType, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use rustls_pki_types::PrivatePkcs8KeyDer;
use std::net::IpAddr;
use time::OffsetDateTime;

/// A session's certificate and key.
pub struct SessionCertificate {
    pub der: Vec<u8>,
    /// Go's 64-byte Ed25519 form: 32-byte seed ‖ 32-byte public key.
    private_key: Vec<u8>,
}

impl SessionCertificate {
    pub fn private_key(&self) -> &[u8] {
        &self.private_key
    }

    pub fn into_parts(self) -> (Vec<u8>, Vec<u8>) {
        (self.der, self.private_key)
    }
}

impl std::fmt::Debug for SessionCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCertificate")
            .field("der_len", &self.der.len())
            .field("private_key", &Secret::new(""))
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionCertError {
    #[error("the system random number generator failed")]
    Random,
    #[error("cannot build the session certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("worker host {0:?} is not a valid DNS name or IP address for a certificate")]
    BadHost(String),
}

/// Makes the certificate for `session_id`, valid until `expiration`, naming the hosts of
/// `worker_addresses` (`host:port`, `[v6]:port`, or a bare host).
pub fn issue(
    session_id: &str,
    worker_addresses: &[String],
    now: OffsetDateTime,
    expiration: OffsetDateTime,
) -> Result<SessionCertificate, SessionCertError> {
    let rng = SystemRandom::new();
    let mut seed = [0u8; 32];
    rng.fill(&mut seed).map_err(|_| SessionCertError::Random)?;
    let pkcs8 = boundary_wire::proto::ed25519_pkcs8_v1(&seed);
    let key =
        KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(pkcs8), &PKCS_ED25519)?;

    let mut params = CertificateParams::new(vec![session_id.to_owned()])?;
    for address in worker_addresses {
        let host = worker_host(address);
        let san = match host.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                host.to_owned()
                    .try_into()
                    .map_err(|_| SessionCertError::BadHost(host.to_owned()))?,
            ),
        };
        if !params.subject_alt_names.contains(&san) {
            params.subject_alt_names.push(san);
        }
    }
    params.distinguished_name = DistinguishedName::new();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.not_before = now - time::Duration::minutes(1);
    params.not_after = expiration;
    let mut serial = [0u8; 8];
    rng.fill(&mut serial)
        .map_err(|_| SessionCertError::Random)?;
    serial[0] &= 0x7f; // positive, like Go's big.Int from Int63
    params.serial_number = Some(SerialNumber::from_slice(&serial));

    let cert = params.self_signed(&key)?;
    let mut private_key = seed.to_vec();
    private_key.extend_from_slice(key.public_key_raw());
    Ok(SessionCertificate {
        der: cert.der().to_vec(),
        private_key,
    })
}

/// The host part of `host:port`, `[v6]:port`, a bare v6 address or a bare host.
fn worker_host(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    if address.parse::<IpAddr>().is_ok() {
        return address;
    }
    address.rsplit_once(':').map_or(address, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::extensions::GeneralName;
    use x509_parser::prelude::*;

    #[test]
    fn certificate_has_every_property_of_boundarys() {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let exp = now + ::time::Duration::hours(8);
        let workers = vec![
            "127.0.0.1:9202".to_owned(),
            "worker.example:9202".to_owned(),
            "[::1]:9202".to_owned(),
        ];
        let c = issue("s_1234567890", &workers, now, exp).unwrap();
        let (_, cert) = X509Certificate::from_der(&c.der).unwrap();

        assert_eq!(cert.issuer(), cert.subject());
        assert_eq!(
            cert.signature_algorithm.algorithm,
            x509_parser::oid_registry::OID_SIG_ED25519
        );
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ED25519,
            cert.public_key().subject_public_key.data.as_ref(),
        )
        .verify(
            cert.tbs_certificate.as_ref(),
            cert.signature_value.data.as_ref(),
        )
        .expect("self-signed by its own key");
        let bc = cert.basic_constraints().unwrap().unwrap().value;
        assert!(bc.ca);
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(
            ku.digital_signature()
                && ku.key_encipherment()
                && ku.key_agreement()
                && ku.key_cert_sign()
        );
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && eku.client_auth);
        let san = cert.subject_alternative_name().unwrap().unwrap().value;
        let names: Vec<String> = san
            .general_names
            .iter()
            .map(|n| match n {
                GeneralName::DNSName(d) => d.to_string(),
                GeneralName::IPAddress(ip) => format!("ip:{}", ip.len()),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(names, ["s_1234567890", "ip:4", "worker.example", "ip:16"]);
        assert_eq!(cert.validity().not_after.timestamp(), exp.unix_timestamp());
        assert_eq!(
            cert.validity().not_before.timestamp(),
            now.unix_timestamp() - 60
        );

        // The 64-byte key is seed ‖ public key, and that public key is the certificate's.
        assert_eq!(c.private_key().len(), 64);
        let pair = ring::signature::Ed25519KeyPair::from_seed_and_public_key(
            &c.private_key()[..32],
            &c.private_key()[32..],
        )
        .expect("seed and public key agree");
        assert_eq!(
            cert.public_key().subject_public_key.data.as_ref(),
            ring::signature::KeyPair::public_key(&pair).as_ref()
        );
        assert!(!format!("{c:?}").contains(&hex::encode(&c.private_key()[..8])));
    }

    #[test]
    fn host_extraction() {
        assert_eq!(worker_host("10.0.0.1:9202"), "10.0.0.1");
        assert_eq!(worker_host("[fd00::1]:9202"), "fd00::1");
        assert_eq!(worker_host("fd00::1"), "fd00::1");
        assert_eq!(worker_host("w1.example"), "w1.example");
        assert_eq!(worker_host("w1.example:1"), "w1.example");
    }

    #[test]
    fn each_session_gets_a_new_key() {
        let now = OffsetDateTime::now_utc();
        let a = issue("s_a", &[], now, now + ::time::Duration::hours(1)).unwrap();
        let b = issue("s_b", &[], now, now + ::time::Duration::hours(1)).unwrap();
        assert_ne!(a.private_key(), b.private_key());
    }
}
