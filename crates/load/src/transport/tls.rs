//! TLS for the load path: rustls with ring, Mozilla's roots plus any the user trusts, or —
//! with `--insecure`, for staging endpoints with self-signed certificates — no certificate
//! check at all (the handshake's signatures are still verified).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// TLS settings: Mozilla's roots (webpki-roots), plus any CA certificates the user trusts
/// (PEM), for private CAs and test servers.
pub fn tls_config(extra_roots_pem: Option<&[u8]>) -> Result<ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_roots_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("not a PEM certificate: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("not a usable CA certificate: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("no PEM certificate in it".into());
        }
    }
    Ok(
        ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// TLS settings with the CA certificates of the `--ca-cert` file, if given; a file that
/// cannot be read or holds no certificate is bad input.
pub fn tls_config_with(ca_cert: Option<&std::path::Path>) -> crate::error::Result<ClientConfig> {
    use crate::error::Error;
    let pem = match ca_cert {
        Some(path) => {
            let max = crate::located::TEXT_FILE_MAX;
            Some(crate::located::read_user_file(path, max).map_err(|why| {
                Error::input(format!(
                    "--ca-cert {}: cannot read it: {why}\n  expected: a PEM file of at most {}",
                    path.display(),
                    crate::located::size_text(max)
                ))
            })?)
        }
        None => None,
    };
    tls_config(pem.as_deref()).map_err(|why| {
        let name = ca_cert.map_or(String::new(), |p| p.display().to_string());
        Error::input(format!(
            "--ca-cert {name}: {why}
  expected: a PEM file of CA certificates"
        ))
    })
}

/// `config` without certificate checks (`--insecure`, as curl's `-k`): any certificate,
/// any name, expired or self-signed. Handshake signatures are still checked, so the
/// connection is encrypted to whoever holds the certificate's key.
pub fn insecure(mut config: ClientConfig) -> ClientConfig {
    let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms;
    config
        .dangerous()
        .set_certificate_verifier(Arc::new(AcceptAnyCertificate(algorithms)));
    config
}

#[derive(Debug)]
struct AcceptAnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
