// The README's Security snippets, built by CI so they cannot rot.
// Run: swift run secure-connect tls://host:4222 CA_FILE CLIENT_CERT CLIENT_KEY
import TributaryNATS

@main
struct SecureConnect {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 5 else {
            print("usage: secure-connect tls://host:4222 CA_FILE CLIENT_CERT CLIENT_KEY")
            return
        }
        // README: TLS
        var options = NATSOptions(url: arguments[1])
        options.tls = TLSConfiguration(
            trustRoots: .caFile(arguments[2]),                // default: .system
            certificateFile: arguments[3],                    // mutual TLS (server `verify: true`)
            privateKeyFile: arguments[4],
            privateKeyPassword: nil                           // for an encrypted key; never printed
        )
        do {
            let client = try await NATSClient.connect(options)
            try await client.flush()
            print("connected over TLS to \(client.connectedServer)")
            await client.close()
        } catch {
            // README: TLS errors
            if error.code == .tlsVerificationFailed, let check = error.tlsVerificationFailure {
                print("the server's certificate failed the \(check) check: \(error.message)")
            } else {
                print("could not connect: \(error)")
            }
        }
    }
}
