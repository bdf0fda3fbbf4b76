import Testing
import ToolSupport

@Suite("Shell commands for --command and --translate")
struct ShellCommandTests {
    @Test func feedsStdinAndCollectsStdout() async throws {
        let input: [UInt8] = Array("hello\n".utf8) + [0x00, 0xff]
        let upper = try await ShellCommand.run("tr a-z A-Z", input: input)
        #expect(upper.status == 0 && upper.output == Array("HELLO\n".utf8) + [0x00, 0xff])
        let environment = try await ShellCommand.run("printf '%s' \"$NATS_REQUEST_SUBJECT\"", input: [], environment: ["NATS_REQUEST_SUBJECT": "a.b"])
        #expect(environment.output == Array("a.b".utf8))
    }

    @Test func reportsExitStatusAndIgnoresUnreadInput() async throws {
        let failing = try await ShellCommand.run("echo partial; exit 3", input: [UInt8](repeating: 0x61, count: 1 << 20))
        #expect(failing.status == 3 && failing.output == Array("partial\n".utf8))
        let killed = try await ShellCommand.run("kill -9 $$", input: [])
        #expect(killed.status == 128 + 9)
    }

    @Test func largeInputAndOutputDoNotDeadlock() async throws {
        let big = [UInt8](repeating: 0x62, count: 4 << 20)
        let echoed = try await ShellCommand.run("cat", input: big)
        #expect(echoed.output.count == big.count && echoed.status == 0)
    }
}
