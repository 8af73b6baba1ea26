//! The session authorization token: `base58_btc(protobuf(SessionAuthorizationData))`.

use prost::Message;
use prost_types::Timestamp;

/// `controller.api.resources.targets.v1.SessionAuthorizationData`.
///
/// `Debug` is written by hand: the message carries the session's private key.
#[derive(Clone, PartialEq, Message)]
#[prost(skip_debug)]
pub struct SessionAuthorizationData {
    #[prost(string, tag = "10")]
    pub session_id: String,
    #[prost(string, tag = "20")]
    pub target_id: String,
    #[prost(message, optional, tag = "30")]
    pub scope: Option<ScopeInfo>,
    #[prost(message, optional, tag = "40")]
    pub created_time: Option<Timestamp>,
    #[prost(string, tag = "80")]
    pub r#type: String,
    #[prost(int32, tag = "90")]
    pub connection_limit: i32,
    #[prost(uint32, tag = "102")]
    pub endpoint_port: u32,
    #[prost(message, optional, tag = "105")]
    pub expiration: Option<Timestamp>,
    /// The session certificate, DER.
    #[prost(bytes = "vec", tag = "120")]
    pub certificate: Vec<u8>,
    /// Ed25519 key in Go's 64-byte form: 32-byte seed ‖ 32-byte public key.
    #[prost(bytes = "vec", tag = "130")]
    pub private_key: Vec<u8>,
    #[prost(string, tag = "140")]
    pub host_id: String,
    /// `tcp://host:port`.
    #[prost(string, tag = "141")]
    pub endpoint: String,
    /// Workers to dial, first preferred.
    #[prost(message, repeated, tag = "150")]
    pub worker_info: Vec<WorkerInfo>,
    /// 0 = unset.
    #[prost(uint32, tag = "160")]
    pub default_client_port: u32,
}

impl std::fmt::Debug for SessionAuthorizationData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionAuthorizationData")
            .field("session_id", &self.session_id)
            .field("target_id", &self.target_id)
            .field("endpoint", &self.endpoint)
            .field("worker_info", &self.worker_info)
            .field("connection_limit", &self.connection_limit)
            .field("default_client_port", &self.default_client_port)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ScopeInfo {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub r#type: String,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub description: String,
    #[prost(string, tag = "5")]
    pub parent_scope_id: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct WorkerInfo {
    /// `host:port`.
    #[prost(string, tag = "10")]
    pub address: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("authorization token is not valid base58")]
    Base58,
    /// The decode error is the source, not part of the message, so a chain printed with
    /// `{:#}` names it once.
    #[error("authorization token does not hold a SessionAuthorizationData message")]
    Protobuf(#[from] prost::DecodeError),
    #[error("authorization token has no {0}")]
    Missing(&'static str),
    #[error(
        "authorization token's private key is {0} bytes; an Ed25519 key is 64 (seed and public key)"
    )]
    KeyLength(usize),
}

pub fn encode_authorization_token(data: &SessionAuthorizationData) -> String {
    bs58::encode(data.encode_to_vec()).into_string()
}

/// Decodes and checks that the fields a client needs to connect are present.
pub fn decode_authorization_token(token: &str) -> Result<SessionAuthorizationData, TokenError> {
    let bytes = bs58::decode(token.trim())
        .into_vec()
        .map_err(|_| TokenError::Base58)?;
    let data = SessionAuthorizationData::decode(bytes.as_slice())?;
    if data.session_id.is_empty() {
        return Err(TokenError::Missing("session_id"));
    }
    if data.certificate.is_empty() {
        return Err(TokenError::Missing("certificate"));
    }
    if data.private_key.len() != 64 {
        return Err(TokenError::KeyLength(data.private_key.len()));
    }
    Ok(data)
}

/// PKCS#8 v1 DER of an Ed25519 key from its 32-byte seed (what rustls accepts).
pub fn ed25519_pkcs8_v1(seed: &[u8]) -> Vec<u8> {
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = PREFIX.to_vec();
    der.extend_from_slice(&seed[..32.min(seed.len())]);
    der
}

impl SessionAuthorizationData {
    /// The private key as PKCS#8 v1 DER.
    pub fn pkcs8_private_key(&self) -> Result<Vec<u8>, TokenError> {
        if self.private_key.len() != 64 {
            return Err(TokenError::KeyLength(self.private_key.len()));
        }
        Ok(ed25519_pkcs8_v1(&self.private_key[..32]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> SessionAuthorizationData {
        SessionAuthorizationData {
            session_id: "s_1234567890".into(),
            target_id: "ttcp_1234567890".into(),
            scope: Some(ScopeInfo {
                id: "p_1234567890".into(),
                r#type: "project".into(),
                name: "Generated project scope".into(),
                description: "desc".into(),
                parent_scope_id: "o_1234567890".into(),
            }),
            created_time: Some(Timestamp {
                seconds: 1_700_000_000,
                nanos: 123_000,
            }),
            r#type: "tcp".into(),
            connection_limit: -1,
            endpoint_port: 22,
            expiration: Some(Timestamp {
                seconds: 1_700_028_800,
                nanos: 0,
            }),
            certificate: vec![0x30, 0x82, 1, 2, 3],
            private_key: (0u8..64).collect(),
            host_id: "hst_1234567890".into(),
            endpoint: "tcp://127.0.0.1:22".into(),
            worker_info: vec![
                WorkerInfo {
                    address: "127.0.0.1:9202".into(),
                },
                WorkerInfo {
                    address: "w2:9202".into(),
                },
            ],
            default_client_port: 2222,
        }
    }

    #[test]
    fn token_round_trips_every_field() {
        let data = sample();
        let decoded = decode_authorization_token(&encode_authorization_token(&data)).unwrap();
        assert_eq!(decoded, data);
    }

    /// Reads the wire bytes with a tiny independent decoder so a wrong tag in the derive
    /// (which a round trip would not notice) fails here.
    #[test]
    fn wire_tags_are_boundarys() {
        let bytes = sample().encode_to_vec();
        let mut tags = vec![];
        let mut i = 0;
        let varint = |i: &mut usize| {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let b = bytes[*i];
                *i += 1;
                v |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    return v;
                }
            }
        };
        while i < bytes.len() {
            let key = varint(&mut i);
            let (tag, wire) = (key >> 3, key & 7);
            tags.push((tag, wire));
            match wire {
                0 => {
                    varint(&mut i);
                }
                2 => {
                    let len = varint(&mut i) as usize;
                    i += len;
                }
                other => panic!("unexpected wire type {other}"),
            }
        }
        let expected = [
            (10, 2),
            (20, 2),
            (30, 2),
            (40, 2),
            (80, 2),
            (90, 0),
            (102, 0),
            (105, 2),
            (120, 2),
            (130, 2),
            (140, 2),
            (141, 2),
            (150, 2),
            (150, 2),
            (160, 0),
        ];
        assert_eq!(tags, expected);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            decode_authorization_token("0OIl"),
            Err(TokenError::Base58)
        ));
        assert!(decode_authorization_token("").is_err());
        let mut short_key = sample();
        short_key.private_key.truncate(32);
        assert!(matches!(
            decode_authorization_token(&encode_authorization_token(&short_key)),
            Err(TokenError::KeyLength(32))
        ));
    }

    #[test]
    fn a_protobuf_error_is_printed_once_in_the_chain() {
        let not_protobuf = bs58::encode([0xff, 0xff, 0xff]).into_string();
        let err = decode_authorization_token(&not_protobuf).unwrap_err();
        let source = std::error::Error::source(&err)
            .expect("the decode error is the source")
            .to_string();
        let chain = format!("{:#}", anyhow::Error::from(err));
        assert!(
            chain.starts_with("authorization token does not hold a SessionAuthorizationData"),
            "{chain}"
        );
        assert_eq!(chain.matches(&source).count(), 1, "{chain}");
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let text = format!("{:?}", sample());
        assert!(!text.contains("private_key"));
        assert!(text.contains("s_1234567890"));
    }

    #[test]
    fn pkcs8_wraps_the_seed() {
        let der = sample().pkcs8_private_key().unwrap();
        assert_eq!(der.len(), 48);
        assert_eq!(&der[16..], &(0u8..32).collect::<Vec<_>>()[..]);
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = decode_authorization_token(&s);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_authorization_token(&bs58::encode(b).into_string());
        }
    }
}
