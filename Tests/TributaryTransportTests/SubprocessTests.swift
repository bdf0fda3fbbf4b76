#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TributaryTestSupport

/// The test harness's child processes (`Subprocess`): exit statuses, signals, pipes, working
/// directory, and that a child inherits no descriptor beyond 0–2.
@Suite("Subprocess: the test harness's child processes")
struct SubprocessTests {
    private func shell(_ script: String) -> (Subprocess, SubprocessPipe) {
        let process = Subprocess("/bin/sh", ["-c", script])
        let output = SubprocessPipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        return (process, output)
    }

    @Test func exitStatusAndOutput() async throws {
        let (process, output) = shell("echo hello; exit 3")
        try process.run()
        let text = String(decoding: output.readToEnd(), as: UTF8.self)
        #expect(await process.exited(within: .seconds(10)))
        #expect(text == "hello\n")
        #expect(process.terminationStatus == 3)
        #expect(!process.terminatedBySignal)
        #expect(!process.isRunning)
    }

    @Test func aKilledChildReportsItsSignal() async throws {
        let (process, _) = shell("exec sleep 30")
        try process.run()
        #expect(process.isRunning)
        await process.killAndReap()
        #expect(!process.isRunning)
        #expect(process.terminatedBySignal)
        #expect(process.terminationStatus == SIGKILL)
        // A reaped child's pid is not signalled again (it may belong to another process by now).
        process.signal(SIGKILL)
    }

    @Test func theChildInheritsOnlyItsStandardDescriptors() async throws {
        // An open descriptor of this process that is not close-on-exec.
        let stray = open("/dev/null", O_RDONLY)
        #expect(stray > 2)
        defer { close(stray) }
        let (process, output) = shell("ls /proc/self/fd")
        try process.run()
        let listed = String(decoding: output.readToEnd(), as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
        #expect(await process.exited(within: .seconds(10)))
        // 0, 1, 2 and the descriptor ls opens to read the directory.
        #expect(listed.filter { $0 > 2 }.count <= 1, "\(listed)")
        #expect(Array(listed.prefix(3)) == [0, 1, 2], "\(listed)")
    }

    @Test func workingDirectoryStdinAndEnvironment() async throws {
        let process = Subprocess("/bin/sh", ["-c", "pwd; echo \"$MARKER\"; cat"])
        let input = SubprocessPipe(), output = SubprocessPipe()
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        process.environment = ["MARKER": "set", "PATH": "/usr/bin:/bin"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data("from stdin\n".utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.readToEnd(), as: UTF8.self)
        #expect(await process.exited(within: .seconds(10)))
        #expect(text == "/tmp\nset\nfrom stdin\n")
        #expect(process.terminationStatus == 0)
    }

    @Test func aMissingExecutableIsAnError() {
        let process = Subprocess("/nonexistent/tool", [])
        #expect(throws: BrokerEnvironmentError.self) { try process.run() }
        #expect(!process.isRunning)
    }
}
