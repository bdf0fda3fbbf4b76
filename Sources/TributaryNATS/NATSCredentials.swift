#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TributaryCrypto
import TributaryNATSProtocol

/// NKEY or JWT credentials for servers that authenticate users by public key: nkey users in
/// the server's `authorization` block, or operator mode (decentralized JWT authentication).
///
/// Set `NATSOptions.credentials` to one of:
/// - `.credsFile(path)`: a `.creds` file (user JWT and seed), like nats.go `UserCredentials(file)`
///   and `nats --creds`;
/// - `.jwtFile(path, seedFile:)`: a JWT file and a seed file, like nats.go `UserCredentials(jwt, seed)`;
/// - `.jwt(jwt, seed:)`: both in memory, like nats.go `UserJWTAndSeed`;
/// - `.nkeySeedFile(path)`: a user seed file for an nkey user, like nats.go `NkeyOptionFromSeed`
///   and `nats --nkey`;
/// - `.nkeySeed(seed)`: the seed in memory;
/// - `.nkey(publicKey:sign:)` and `.userJWT(_:sign:)`: callbacks for keys kept elsewhere (a vault,
///   an HSM), like nats.go `Nkey` and `UserJWT`.
///
/// On every connect and reconnect, once the server's INFO (and TLS) is done, the client reads the
/// files again (so rotated credentials are picked up), signs the server's nonce and sends CONNECT
/// with `jwt`, `nkey` and `sig`. Seeds read from files are decoded, used and overwritten; a seed
/// given as a `String` stays in memory as long as the options do (Swift cannot erase strings), so
/// prefer files or a signing callback for long-lived processes.
///
/// Problems with the credentials themselves (a missing file, a malformed creds file, a seed that
/// is not a user seed, a JWT that does not belong to the seed, a failing callback) fail the
/// connection attempt with `.invalidCredentials`; the message names the file and what is wrong,
/// and never contains the seed or the JWT. `description` never shows them either.
public struct NATSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Signs a server nonce with the user's private key: returns the 64-byte Ed25519 signature.
    /// It runs as a task (never on the connection's I/O thread); do not block in it.
    public typealias Signer = @Sendable (_ nonce: [UInt8]) async throws -> [UInt8]
    /// Returns the user JWT. It runs as a task (never on the connection's I/O thread).
    public typealias JWTProvider = @Sendable () async throws -> String

    enum Source: Sendable {
        case seed(String)
        case seedFile(String)
        case credsFile(String)
        case jwtFile(String, seedFile: String)
        case jwtAndSeed(jwt: String, seed: String)
        case nkey(publicKey: String, sign: Signer)
        case userJWT(jwt: JWTProvider, sign: Signer)
    }

    let source: Source

    /// An nkey user's seed (`SU…`), kept in memory.
    public static func nkeySeed(_ seed: String) -> NATSCredentials { NATSCredentials(source: .seed(seed)) }

    /// A file holding an nkey user's seed (a bare `SU…` line or a decorated seed block), read on
    /// every connect. Like nats.go `NkeyOptionFromSeed` and `nats --nkey`. A leading `~/` is the
    /// home directory.
    public static func nkeySeedFile(_ path: String) -> NATSCredentials { NATSCredentials(source: .seedFile(path)) }

    /// A `.creds` file (user JWT block and user seed block), read on every connect. Like nats.go
    /// `UserCredentials(file)` and `nats --creds`. A leading `~/` is the home directory.
    public static func credsFile(_ path: String) -> NATSCredentials { NATSCredentials(source: .credsFile(path)) }

    /// A user JWT file (bare or decorated) and a seed file, both read on every connect. Like
    /// nats.go `UserCredentials(jwtFile, seedFile)`.
    public static func jwtFile(_ path: String, seedFile: String) -> NATSCredentials {
        NATSCredentials(source: .jwtFile(path, seedFile: seedFile))
    }

    /// A user JWT and its seed, kept in memory. Like nats.go `UserJWTAndSeed`.
    public static func jwt(_ jwt: String, seed: String) -> NATSCredentials {
        NATSCredentials(source: .jwtAndSeed(jwt: jwt, seed: seed))
    }

    /// An nkey user whose private key is held elsewhere: `publicKey` (`U…`) is sent, and `sign`
    /// signs each server nonce. Like nats.go `Nkey(publicKey, signatureCB)`.
    public static func nkey(publicKey: String, sign: @escaping Signer) -> NATSCredentials {
        NATSCredentials(source: .nkey(publicKey: publicKey, sign: sign))
    }

    /// JWT authentication with callbacks: `jwt` returns the user JWT (asked on every connect, so
    /// it may return a renewed one) and `sign` signs each server nonce. Like nats.go
    /// `UserJWT(userCB, signatureCB)`.
    public static func userJWT(_ jwt: @escaping JWTProvider, sign: @escaping Signer) -> NATSCredentials {
        NATSCredentials(source: .userJWT(jwt: jwt, sign: sign))
    }

    /// The kind of credentials and file paths; never the seed or the JWT.
    public var description: String {
        switch source {
        case .seed: return "NATSCredentials.nkeySeed(<redacted>)"
        case .seedFile(let path): return "NATSCredentials.nkeySeedFile(\(path))"
        case .credsFile(let path): return "NATSCredentials.credsFile(\(path))"
        case .jwtFile(let path, let seedFile): return "NATSCredentials.jwtFile(\(path), seedFile: \(seedFile))"
        case .jwtAndSeed: return "NATSCredentials.jwt(<redacted>, seed: <redacted>)"
        case .nkey(let publicKey, _): return "NATSCredentials.nkey(publicKey: \(publicKey), sign: <callback>)"
        case .userJWT: return "NATSCredentials.userJWT(<callback>, sign: <callback>)"
        }
    }

    public var debugDescription: String { description }

    /// True when answering a challenge runs user callbacks (which must not run on the I/O thread).
    var usesCallbacks: Bool {
        switch source {
        case .nkey, .userJWT: return true
        default: return false
        }
    }

    // MARK: - Validation at connect

    /// Checks what needs no I/O: in-memory seeds and JWTs, the public key of `.nkey`, non-empty paths.
    func validate() throws(NATSError) {
        func bad(_ why: String) -> NATSError { NATSError(.invalidConfiguration, "invalid NATSOptions.credentials: \(why)") }
        switch source {
        case .seed(let seed):
            do throws(NATSError) {
                var pair = try userKeyPair(seed: seed, what: "the NKEY seed")
                pair.wipe()
            } catch { throw bad(error.message) }
        case .jwtAndSeed(let jwt, let seed):
            do throws(NATSError) {
                var pair = try userKeyPair(seed: seed, what: "the seed")
                defer { pair.wipe() }
                _ = try checkedJWT(jwt, keyPair: pair, what: "the user JWT")
            } catch { throw bad(error.message) }
        case .seedFile(let path), .credsFile(let path):
            if path.isEmpty { throw bad("the file path is empty") }
        case .jwtFile(let path, let seedFile):
            if path.isEmpty || seedFile.isEmpty { throw bad("a file path is empty") }
        case .nkey(let publicKey, _):
            do throws(NATSError) {
                let decoded = try NATSNKey.decodePublicKey(publicKey)
                if decoded.type != .user {
                    throw NATSError(.invalidCredentials, "'\(publicKey)' is an \(decoded.type) public key; an nkey user's starts with 'U'")
                }
            } catch { throw bad(error.message) }
        case .userJWT:
            break
        }
    }

    // MARK: - Answering a challenge

    /// Loads the credentials (reading files) and signs the nonce: for every kind without callbacks.
    /// Runs on the connection's I/O thread, where blocking file reads are allowed.
    func respondWithoutCallbacks(to challenge: NATSAuthenticationChallenge) -> Result<NATSAuthenticationResponse, NATSError> {
        do throws(NATSError) {
            switch source {
            case .seed(let seed):
                var pair = try userKeyPair(seed: seed, what: "the NKEY seed in NATSOptions.credentials")
                defer { pair.wipe() }
                return .success(.signing(nonce: challenge.nonce, with: pair))
            case .seedFile(let path):
                var contents = try Self.readFile(path, what: "NKEY seed file")
                defer { SecretBytes.wipe(&contents) }
                var pair = try Self.inFile(path) { () throws(NATSError) in try NATSCredentialsFile.parseSeed(contents) }
                defer { pair.wipe() }
                return .success(.signing(nonce: challenge.nonce, with: pair))
            case .credsFile(let path):
                var contents = try Self.readFile(path, what: "creds file")
                defer { SecretBytes.wipe(&contents) }
                let parsed = try Self.inFile(path) { () throws(NATSError) in try NATSCredentialsFile.parseCreds(contents) }
                var pair = parsed.keyPair
                defer { pair.wipe() }
                let claims = try Self.inFile(path) { () throws(NATSError) in try checkedJWT(parsed.jwt, keyPair: pair, what: "the user JWT") }
                return .success(jwtResponse(jwt: parsed.jwt, claims: claims, signature: challenge.nonce.map { pair.signNonce($0) }))
            case .jwtFile(let path, let seedFile):
                var jwtContents = try Self.readFile(path, what: "JWT file")
                defer { SecretBytes.wipe(&jwtContents) }
                let jwt = try Self.inFile(path) { () throws(NATSError) in try NATSCredentialsFile.parseJWT(jwtContents) }
                var seedContents = try Self.readFile(seedFile, what: "NKEY seed file")
                defer { SecretBytes.wipe(&seedContents) }
                var pair = try Self.inFile(seedFile) { () throws(NATSError) in try NATSCredentialsFile.parseSeed(seedContents) }
                defer { pair.wipe() }
                let claims = try checkedJWT(jwt, keyPair: pair, what: "the user JWT in \(path)")
                return .success(jwtResponse(jwt: jwt, claims: claims, signature: challenge.nonce.map { pair.signNonce($0) }))
            case .jwtAndSeed(let jwt, let seed):
                var pair = try userKeyPair(seed: seed, what: "the seed in NATSOptions.credentials")
                defer { pair.wipe() }
                let claims = try checkedJWT(jwt, keyPair: pair, what: "the user JWT in NATSOptions.credentials")
                return .success(jwtResponse(jwt: jwt, claims: claims, signature: challenge.nonce.map { pair.signNonce($0) }))
            case .nkey, .userJWT:
                return .failure(NATSError(.invalidCredentials, "callback credentials must be answered with respondWithCallbacks"))
            }
        } catch {
            return .failure(error)
        }
    }

    /// Runs the callbacks of `.nkey` and `.userJWT` (as a task, off the I/O thread) and checks
    /// what they return: a user JWT, and a 64-byte signature that verifies with the user's key.
    func respondWithCallbacks(to challenge: NATSAuthenticationChallenge) async -> Result<NATSAuthenticationResponse, NATSError> {
        let nonce = challenge.nonce.map { Array($0.utf8) }
        switch source {
        case .nkey(let publicKey, let sign):
            guard let nonce else { return .success(NATSAuthenticationResponse(nkey: publicKey)) }
            return await signature(sign, nonce: nonce, publicKey: publicKey)
                .map { NATSAuthenticationResponse(nkey: publicKey, signature: $0) }
        case .userJWT(let provide, let sign):
            let jwt: String
            do {
                jwt = try await provide()
            } catch {
                return .failure(NATSError(.invalidCredentials, "the user JWT callback of NATSOptions.credentials threw an error", underlying: error))
            }
            let claims: NATSUserJWT
            do throws(NATSError) {
                claims = try NATSUserJWT(parsing: jwt)
            } catch {
                return .failure(NATSError(.invalidCredentials, "the user JWT callback returned no valid user JWT: \(error.message)"))
            }
            guard let nonce else { return .success(jwtResponse(jwt: jwt, claims: claims, signature: nil)) }
            return await signature(sign, nonce: nonce, publicKey: claims.subject)
                .map { jwtResponse(jwt: jwt, claims: claims, signature: $0) }
        default:
            return respondWithoutCallbacks(to: challenge)
        }
    }

    private func signature(_ sign: Signer, nonce: [UInt8], publicKey: String) async -> Result<String, NATSError> {
        let raw: [UInt8]
        do {
            raw = try await sign(nonce)
        } catch {
            return .failure(NATSError(.invalidCredentials, "the signing callback of NATSOptions.credentials threw an error", underlying: error))
        }
        guard raw.count == 64 else {
            return .failure(NATSError(.invalidCredentials,
                                      "the signing callback returned \(raw.count) bytes; an Ed25519 signature is 64 bytes"))
        }
        guard NATSNKey.isValidSignature(raw, for: nonce, publicKey: publicKey) else {
            return .failure(NATSError(.invalidCredentials,
                                      "the signing callback's signature does not verify with \(publicKey): it signed with another key, or signed something other than the nonce's bytes"))
        }
        return .success(NATSNKey.encodeSignature(raw))
    }

    // MARK: - Helpers

    private func userKeyPair(seed: String, what: String) throws(NATSError) -> NATSNKeyPair {
        var characters = Array(seed.utf8)
        return try NATSCredentialsFile.userKeyPair(&characters, what: what)
    }

    /// The JWT's claims, after checking that it belongs to `keyPair`.
    private func checkedJWT(_ jwt: String, keyPair: NATSNKeyPair, what: String) throws(NATSError) -> NATSUserJWT {
        let claims: NATSUserJWT
        do throws(NATSError) {
            claims = try NATSUserJWT(parsing: jwt)
        } catch {
            throw NATSError(.invalidCredentials, "\(what): \(error.message)")
        }
        guard claims.subject == keyPair.publicKey else {
            throw NATSError(.invalidCredentials,
                            "\(what) belongs to user \(claims.subject), but the seed is that of \(keyPair.publicKey); use the JWT and seed of the same user (a creds file holds both)")
        }
        return claims
    }

    /// The response for JWT authentication; notes an expired JWT (by this machine's clock) so a
    /// rejection can say so.
    private func jwtResponse(jwt: String, claims: NATSUserJWT, signature: String?) -> NATSAuthenticationResponse {
        NATSAuthenticationResponse(jwt: jwt, signature: signature, jwtExpiredNote: claims.expiryNote(now: Int64(time(nil))))
    }

    /// Runs `body`, prefixing its error with the file name.
    private static func inFile<T>(_ path: String, _ body: () throws(NATSError) -> T) throws(NATSError) -> T {
        do throws(NATSError) {
            return try body()
        } catch {
            var failure = error
            failure.message = "\(path): \(error.message)"
            throw failure
        }
    }

    /// Largest credentials file read: creds files are a few KiB.
    static let maxFileSize = 1024 * 1024

    /// Reads a whole file (blocking); the caller wipes the bytes.
    static func readFile(_ path: String, what: String) throws(NATSError) -> [UInt8] {
        var expanded = path
        if path.hasPrefix("~/"), let home = getenv("HOME") {
            expanded = String(cString: home) + String(path.dropFirst())
        }
        let fd = open(expanded, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            throw NATSError(.invalidCredentials,
                            "cannot open the \(what) '\(path)': \(String(cString: strerror(code))) (errno \(code)); check the path in NATSOptions.credentials and that this process may read it")
        }
        defer { close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { SecretBytes.wipe(&chunk) }
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                SecretBytes.wipe(&contents)
                throw NATSError(.invalidCredentials,
                                "cannot read the \(what) '\(path)': \(String(cString: strerror(code))) (errno \(code))")
            }
            if n == 0 { break }
            contents.append(contentsOf: chunk[0..<n])
            if contents.count > maxFileSize {
                SecretBytes.wipe(&contents)
                throw NATSError(.invalidCredentials,
                                "the \(what) '\(path)' is larger than \(maxFileSize) bytes: this is not a credentials file")
            }
        }
        if contents.isEmpty {
            throw NATSError(.invalidCredentials, "the \(what) '\(path)' is empty")
        }
        return contents
    }
}
