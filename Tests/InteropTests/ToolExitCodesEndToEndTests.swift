import Foundation
import Testing
import TributaryNATS
import TributaryTestSupport

/// The exit-code table of the README, checked tool by tool: each error class exits with its code.
///
/// | class | code |
/// |---|---|
/// | success, also after Ctrl-C/SIGTERM | 0 |
/// | usage error | 1 |
/// | failure with a working connection | 1 |
/// | cannot connect or authenticate, connection lost | 2 |
@Suite("nats-* tools exit codes")
struct ToolExitCodesEndToEndTests {
    static let usage: Int32 = 1
    static let failure: Int32 = 1
    static let connection: Int32 = 2
    static let tools = ["nats-pub", "nats-sub", "nats-req", "nats-reply", "nats-bench"]

    func run(_ tool: String, _ arguments: [String], stdin: Data = Data(), timeout: Duration = .seconds(20))
        async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = ChildProcess(try toolPath(tool), arguments)
        try process.start(stdin: stdin)
        return await process.finish(timeout: timeout)
    }

    /// Arguments that are valid apart from the one being tested.
    func valid(_ tool: String) -> [String] {
        switch tool {
        case "nats-bench": return ["pub", "--msgs", "10"]
        case "nats-sub": return ["x", "--count", "1"]
        case "nats-reply": return ["x", "--count", "1"]
        default: return ["x", "body"]
        }
    }

    @Test func usageErrorsExitOneWithOneLineAndAHint() async throws {
        for tool in Self.tools {
            let result = try await run(tool, valid(tool) + ["--no-such-flag"])
            #expect(result.status == Self.usage, "\(tool): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 2 && lines[0].hasPrefix("\(tool): unknown flag '--no-such-flag'")
                    && lines[1] == "Try '\(tool) --help' for more information.", "\(tool): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(tool) printed usage text: \(result.stdout)")
        }
    }

    @Test func refusedConnectionsExitTwo() async throws {
        let port = try freePort()
        for tool in Self.tools {
            let result = try await run(tool, ["-s", "nats://127.0.0.1:\(port)", "--timeout", "1s"] + valid(tool))
            #expect(result.status == Self.connection, "\(tool): \(result.stderr)")
            #expect(result.stderr.contains("127.0.0.1:\(port)"), "\(tool): \(result.stderr)")
        }
    }

    @Test func failuresOnAWorkingConnectionExitOne() async throws {
        let url = try BrokerEnvironment.natsURL()
        let noResponders = try await run("nats-req", ["-s", url, uniqueSubject("codes.nobody"), "x"])
        #expect(noResponders.status == Self.failure && noResponders.stderr.contains("no responders"), "\(noResponders.stderr)")
        // A payload over the server's max_payload (1 MiB by default).
        let tooBig = try await run("nats-pub", ["-s", url, uniqueSubject("codes.big")], stdin: Data(count: 2 << 20))
        #expect(tooBig.status == Self.failure, "\(tooBig.stderr)")
        #expect(tooBig.stderr.contains("max_payload") || tooBig.stderr.contains("maximum payload"), "\(tooBig.stderr)")
        let badDump = try await run("nats-sub", ["-s", url, "x", "--dump", "/proc/version/dump"])
        #expect(badDump.status == Self.failure && badDump.stderr.contains("--dump"), "\(badDump.stderr)")
    }

    @Test func interruptedToolsExitZero() async throws {
        let url = try BrokerEnvironment.natsURL()
        for (tool, arguments) in [("nats-sub", [uniqueSubject("codes.sigterm")]), ("nats-reply", [uniqueSubject("codes.sigterm")])] {
            let process = ChildProcess(try toolPath(tool), ["-s", url] + arguments)
            try process.start(stdin: Data())
            try await process.waitForStderr(containing: tool == "nats-sub" ? "Subscribing on" : "Listening on")
            kill(process.processIdentifier, SIGTERM)
            let result = await process.finish(timeout: .seconds(10))
            #expect(result.status == 0, "\(tool): \(result.stderr)")
        }
    }
}

extension ChildProcess {
    var processIdentifier: Int32 { process.processIdentifier }
}
