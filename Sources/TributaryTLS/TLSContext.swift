#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenSSL
import TributaryTransport

/// Builds an OpenSSL client context from a `TLSConfiguration`, reading its files afresh.
enum TLSContext {
    static func make(_ configuration: TLSConfiguration, endpoint: String) throws(TransportError) -> OpaquePointer {
        func failure(_ message: String) -> TransportError {
            TransportError(code: .tlsConfiguration, endpoint: endpoint, message: message)
        }
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw failure("could not create a TLS context: \(OpenSSLErrors.drain())")
        }
        var ok = false
        defer { if !ok { SSL_CTX_free(context) } }
        ERR_clear_error()
        let minimum = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        _ = tributary_SSL_CTX_set_min_proto_version(context, minimum)

        if configuration.dangerouslyDisableCertificateVerification {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            switch configuration.trustRoots {
            case .system:
                if SSL_CTX_set_default_verify_paths(context) != 1 {
                    throw failure("could not load the system's trusted CA certificates: \(OpenSSLErrors.drain()); install ca-certificates or configure a CA file")
                }
            case .caFile(let path):
                try requireReadable(path, what: "CA file", endpoint: endpoint)
                if SSL_CTX_load_verify_locations(context, path, nil) != 1 {
                    throw failure("could not load CA certificates from '\(path)': \(OpenSSLErrors.drain()); it must hold PEM certificates")
                }
            case .caDirectory(let path):
                try requireReadable(path, what: "CA directory", endpoint: endpoint)
                if SSL_CTX_load_verify_locations(context, nil, path) != 1 {
                    throw failure("could not use the CA directory '\(path)': \(OpenSSLErrors.drain())")
                }
            }
        }

        switch (configuration.certificateFile, configuration.privateKeyFile) {
        case (nil, nil):
            break
        case (.some, nil), (nil, .some):
            throw failure("a client certificate needs both its certificate file and its private key file; set both or neither")
        case (.some(let certificate), .some(let key)):
            try requireReadable(certificate, what: "client certificate file", endpoint: endpoint)
            try requireReadable(key, what: "client private key file", endpoint: endpoint)
            if SSL_CTX_use_certificate_chain_file(context, certificate) != 1 {
                throw failure("could not load the client certificate from '\(certificate)': \(OpenSSLErrors.drain()); it must be a PEM certificate")
            }
            try loadPrivateKey(key, password: configuration.privateKeyPassword, certificate: certificate, into: context, endpoint: endpoint)
            if SSL_CTX_check_private_key(context) != 1 {
                throw failure("the private key in '\(key)' does not belong to the certificate in '\(certificate)': \(OpenSSLErrors.drain())")
            }
        }
        ok = true
        return context
    }

    private static func loadPrivateKey(_ path: String, password: String?, certificate: String, into context: OpaquePointer,
                                       endpoint: String) throws(TransportError) {
        guard let bio = BIO_new_file(path, "r") else {
            throw TransportError(code: .tlsConfiguration, endpoint: endpoint,
                                 message: "could not open the private key file '\(path)': \(OpenSSLErrors.drain())")
        }
        defer { BIO_free(bio) }
        // With no callback, OpenSSL takes the last argument as the NUL-terminated passphrase.
        // An empty passphrase stands in when none is configured, so an encrypted key fails
        // instead of prompting on the terminal.
        var passphrase = Array((password ?? "").utf8CString)
        defer { for i in passphrase.indices { passphrase[i] = 0 } }
        let key = passphrase.withUnsafeMutableBytes { raw in
            PEM_read_bio_PrivateKey(bio, nil, nil, raw.baseAddress)
        }
        guard let key else {
            let reason = OpenSSLErrors.drain()
            let hint = password == nil
                ? "if the key is encrypted, set its password"
                : "check the key's password"
            throw TransportError(code: .tlsConfiguration, endpoint: endpoint,
                                 message: "could not read the private key in '\(path)' (\(reason)); \(hint)")
        }
        defer { EVP_PKEY_free(key) }
        if SSL_CTX_use_PrivateKey(context, key) != 1 {
            throw TransportError(code: .tlsConfiguration, endpoint: endpoint,
                                 message: "the private key in '\(path)' does not belong to the certificate in '\(certificate)' (\(OpenSSLErrors.drain())); configure the matching key")
        }
    }

    private static func requireReadable(_ path: String, what: String, endpoint: String) throws(TransportError) {
        if access(path, R_OK) != 0 {
            let reason = String(cString: strerror(errno))
            throw TransportError(code: .tlsConfiguration, endpoint: endpoint, message: "cannot read the \(what) '\(path)': \(reason)")
        }
    }
}

/// Turns OpenSSL's error queue and verification result into `TransportError`s.
enum OpenSSLErrors {
    /// Empties this thread's OpenSSL error queue into one line ("no details" when empty).
    static func drain() -> String {
        var lines: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !lines.contains(text) { lines.append(text) }
        }
        return lines.isEmpty ? "no details" : lines.joined(separator: "; ")
    }

    /// The error for a failed handshake, read or write: a verification failure when the server's
    /// certificate was rejected, a rejection of our certificate when the server sent such an
    /// alert, else `defaultCode`.
    /// `ssl` is nil when verification is off (its verify result means nothing then).
    static func classify(endpoint: String, during operation: String, ssl: OpaquePointer?, defaultCode: TransportError.Code) -> TransportError {
        let details = drain()
        if let ssl, case let result = Int32(SSL_get_verify_result(ssl)), result != X509_V_OK {
            let reason = String(cString: X509_verify_cert_error_string(Int(result)))
            let (failure, hint) = verificationFailure(result)
            return TransportError(code: .tlsVerification, endpoint: endpoint,
                                  message: "the server's TLS certificate failed verification: \(reason); \(hint)",
                                  verificationFailure: failure)
        }
        let lowered = details.lowercased()
        if lowered.contains("certificate required") || lowered.contains("alert bad certificate")
            || lowered.contains("alert unknown ca") || lowered.contains("alert certificate unknown") {
            return TransportError(code: .tlsPeerRejectedCertificate, endpoint: endpoint,
                                  message: "the server rejected this client's certificate (\(details)); configure a client certificate and key signed by a CA the server trusts")
        }
        if lowered.contains("wrong version number") || lowered.contains("packet length too long") || lowered.contains("record layer failure") {
            return TransportError(code: defaultCode, endpoint: endpoint,
                                  message: "TLS \(operation) failed (\(details)); the server does not seem to speak TLS on this port")
        }
        if lowered.contains("protocol version") || lowered.contains("unsupported protocol") {
            return TransportError(code: defaultCode, endpoint: endpoint,
                                  message: "TLS \(operation) failed (\(details)); the client and server share no TLS version (the client accepts TLS 1.2 or newer)")
        }
        return TransportError(code: defaultCode, endpoint: endpoint, message: "TLS \(operation) failed: \(details)")
    }

    static func verificationFailure(_ result: Int32) -> (TLSVerificationFailure, String) {
        switch result {
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CRL_HAS_EXPIRED:
            return (.expired, "the server's certificate has expired: renew it (or check this machine's clock)")
        case X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CRL_NOT_YET_VALID:
            return (.notYetValid, "the server's certificate is not valid yet: check the clocks of this machine and the server")
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
            return (.selfSigned, "trust the CA that signed it (a CA file) or give the server a certificate from a trusted CA")
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_SIGNATURE_FAILURE:
            return (.unknownAuthority, "the certificate was not issued by a CA this client trusts: configure the CA file that signed the server's certificate")
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            return (.nameMismatch, "the certificate does not name the host connected to: connect by a name the certificate lists, or set the TLS server name")
        case X509_V_ERR_CERT_REVOKED:
            return (.revoked, "the server's certificate was revoked: the server needs a new one")
        case X509_V_ERR_INVALID_PURPOSE:
            return (.invalidPurpose, "the certificate may not identify a TLS server: issue one with serverAuth usage")
        default:
            return (.other, "check the server's certificate chain")
        }
    }
}
