//! `session_token`: the session authorization token decoder
//! (`boundary_wire::proto::decode_authorization_token`), which reads what the controller
//! returns from authorize-session and what users paste into `boundary connect`.

use boundary_wire::proto::{decode_authorization_token, encode_authorization_token};
use prost::Message as _;

/// The first byte chooses what the rest is: even, the token text as a user or controller
/// would pass it (base58); odd, the protobuf bytes inside it, which the target encodes
/// in base58 first — libFuzzer's mutations of raw protobuf reach the message decoder far
/// more often than mutations of its base58 text would. A token that decodes must carry
/// what the decoder promises (a session id, a certificate, a 64-byte key whose PKCS#8
/// form builds) and survive encoding and decoding again unchanged.
pub fn session_token(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = if mode & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bs58::encode(rest).into_string()
    };
    let Ok(decoded) = decode_authorization_token(&token) else {
        return;
    };
    assert!(!decoded.session_id.is_empty());
    assert!(!decoded.certificate.is_empty());
    assert_eq!(decoded.private_key.len(), 64);
    let pkcs8 = decoded.pkcs8_private_key().expect("a 64-byte key converts");
    assert_eq!(pkcs8.len(), 48);
    let again = decode_authorization_token(&encode_authorization_token(&decoded))
        .expect("an encoded token decodes");
    assert_eq!(again, decoded);
    assert_eq!(again.encode_to_vec(), decoded.encode_to_vec());
}
