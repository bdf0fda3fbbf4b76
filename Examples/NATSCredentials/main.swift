// The README's "NKEY and JWT credentials" code, built by CI so that it cannot rot.
// Run it against a server that knows these credentials:
//   swift run nats-credentials /path/to/user.creds
import TributaryNATS

// A creds file (user JWT + seed) as nsc or an account server writes it; read on every (re)connect,
// so a renewed file is picked up by the next reconnect.
var options = NATSOptions()
options.credentials = .credsFile(CommandLine.arguments.dropFirst().first ?? "/etc/nats/orders.creds")
let nats = try await NATSClient.connect(options)
try await nats.flush()
await nats.close()

// An nkey user (`authorization { users = [ { nkey: U… } ] }`): the seed in a file, or in memory.
options.credentials = .nkeySeedFile("/etc/nats/orders.nk")
options.credentials = .nkeySeed("SUAAJ6EZNWTWHN5JNGYQFDXDAB2WT2XTUY2UQ3O2WII5KEWILOO7R67BBI")

// A JWT and its seed from somewhere else (a secret manager, the environment), or as two files.
let (userJWT, userSeed) = (String(), String())   // fetched at start-up
options.credentials = .jwt(userJWT, seed: userSeed)
options.credentials = .jwtFile("/etc/nats/orders.jwt", seedFile: "/etc/nats/orders.nk")

// Keys that never leave a vault: the client only asks for signatures of the server's nonce.
actor SecretStore {   // stands in for your vault client
    private let key: NATSNKeyPair
    private let jwt: String
    nonisolated let publicKey: String
    init(seed: String, jwt: String) throws {
        key = try NATSNKeyPair(seed: seed)
        self.jwt = jwt
        publicKey = key.publicKey
    }
    func sign(_ nonce: [UInt8]) -> [UInt8] { key.sign(nonce) }
    func userJWT() -> String { jwt }
}
let store = try SecretStore(seed: "SUAAJ6EZNWTWHN5JNGYQFDXDAB2WT2XTUY2UQ3O2WII5KEWILOO7R67BBI", jwt: userJWT)
options.credentials = .nkey(publicKey: store.publicKey) { nonce in await store.sign(nonce) }
options.credentials = .userJWT({ await store.userJWT() }, sign: { nonce in await store.sign(nonce) })

// Failures are typed and never quote the seed or the JWT: `.invalidCredentials` when the client
// cannot use them (a missing file, a malformed creds file, not a user seed), `.authorizationViolation`,
// `.authenticationExpired` or `.authenticationRevoked` when the server refuses them.
do {
    _ = try await NATSClient.connect(options)
} catch {
    print(error.code, error.message)
}
