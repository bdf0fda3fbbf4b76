import Testing
import ToolSupport
import TributaryNATS

@Suite("Credential flags of the nats-* tools")
struct CredentialSettingsTests {
    static let spec = CommandSpec(name: "nats-test", positionalNames: ["SUBJECT"], minimumPositionals: 1, summary: "test",
                                  flags: ConnectionSettings.flags(defaultTimeout: .seconds(2)))

    static func settings(_ arguments: [String], environment: [String: String] = [:]) throws -> ConnectionSettings {
        guard case .run(let parsed) = try spec.parse(arguments) else { throw UsageError("help") }
        return try ConnectionSettings(parsed, environment: environment, toolName: "nats-test", defaultTimeout: .seconds(2))
    }

    @Test func flagsAndEnvironment() throws {
        #expect(try Self.settings(["x"]).credentials == CredentialSettings())
        #expect(try Self.settings(["x"]).natsOptions.credentials == nil)
        #expect(try Self.settings(["--creds", "/a.creds", "x"]).credentials.credsFile == "/a.creds")
        #expect(try Self.settings(["x", "--nkey=/u.nk"]).credentials.nkeyFile == "/u.nk")
        #expect(try Self.settings(["x"], environment: ["NATS_CREDS": "/env.creds"]).credentials.credsFile == "/env.creds")
        #expect(try Self.settings(["x"], environment: ["NATS_NKEY": "/env.nk"]).credentials.nkeyFile == "/env.nk")
        // A flag wins over both variables.
        let flagWins = try Self.settings(["--nkey", "/flag.nk", "x"], environment: ["NATS_CREDS": "/env.creds", "NATS_NKEY": "/env.nk"])
        #expect(flagWins.credentials.nkeyFile == "/flag.nk" && flagWins.credentials.credsFile == nil)
        #expect(String(describing: try Self.settings(["--creds", "/a.creds", "x"]).natsOptions.credentials) == "Optional(NATSCredentials.credsFile(/a.creds))")
        #expect(String(describing: try Self.settings(["--nkey", "/u.nk", "x"]).natsOptions.credentials) == "Optional(NATSCredentials.nkeySeedFile(/u.nk))")
    }

    @Test func conflictsAreUsageErrors() {
        #expect(throws: UsageError.self) { try Self.settings(["--creds", "/a", "--nkey", "/b", "x"]) }
        #expect(throws: UsageError.self) { try Self.settings(["x"], environment: ["NATS_CREDS": "/a", "NATS_NKEY": "/b"]) }
        #expect(throws: UsageError.self) { try Self.settings(["--creds=", "x"]) }
    }

    @Test func helpListsTheFlags() {
        #expect(Self.spec.helpText.contains("--creds FILE"))
        #expect(Self.spec.helpText.contains("$NATS_CREDS"))
        #expect(Self.spec.helpText.contains("--nkey FILE"))
        #expect(Self.spec.helpText.contains("$NATS_NKEY"))
    }
}
