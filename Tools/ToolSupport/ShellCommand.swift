#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Runs a shell command (`/bin/sh -c`) with bytes on its stdin and collects its stdout, for
/// `nats-reply --command` and `nats-sub --translate`. The command's stderr goes to the tool's.
///
/// The blocking `write`, `read` and `waitpid` calls run on Dispatch threads, never on the Swift
/// concurrency pool.
public enum ShellCommand {
    /// What the command produced.
    public struct Outcome: Sendable, Equatable {
        /// Everything written to stdout.
        public var output: [UInt8]
        /// The exit status, or 128 + the signal number when a signal ended it.
        public var status: Int32
    }

    /// Starting the command failed.
    public struct LaunchError: Error, Sendable, CustomStringConvertible {
        /// What failed.
        public var message: String
        public var description: String { message }
    }

    /// Runs `command` with `input` on stdin and `environment` added to the tool's environment.
    ///
    /// - Throws: `LaunchError` when the pipes or the process cannot be created.
    public static func run(_ command: String, input: [UInt8], environment: [String: String] = [:]) async throws(LaunchError) -> Outcome {
        signal(SIGPIPE, SIG_IGN)  // a command that ignores its stdin must not kill the tool
        var inputPipe: [Int32] = [0, 0]
        var outputPipe: [Int32] = [0, 0]
        guard pipe(&inputPipe) == 0 else { throw LaunchError(message: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&outputPipe) == 0 else {
            close(inputPipe[0]); close(inputPipe[1])
            throw LaunchError(message: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        for descriptor in inputPipe + outputPipe { posix_spawn_file_actions_addclose(&actions, descriptor) }

        var variables: [String] = []
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            if environment[name] == nil { variables.append(text) }
            index += 1
        }
        for (name, value) in environment { variables.append("\(name)=\(value.filter { $0 != "\0" })") }
        let arguments = ["/bin/sh", "-c", command]
        var pid: pid_t = 0
        let result = withCStrings(arguments) { argv in
            withCStrings(variables) { envp in
                posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp)
            }
        }
        close(inputPipe[0])
        close(outputPipe[1])
        guard result == 0 else {
            close(inputPipe[1]); close(outputPipe[0])
            throw LaunchError(message: "cannot run /bin/sh: \(String(cString: strerror(result)))")
        }
        let writeEnd = inputPipe[1]
        let readEnd = outputPipe[0]
        let child = pid
        DispatchQueue.global().async {
            input.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count, let base = raw.baseAddress {
                    let written = write(writeEnd, base + offset, raw.count - offset)
                    if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { break }
                }
            }
            close(writeEnd)
        }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var output: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, 65536) }
                    if count > 0 { output += chunk[0..<count] } else if count < 0 && errno == EINTR { continue } else { break }
                }
                close(readEnd)
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                let low = status & 0x7f
                let code = low == 0 ? (status >> 8) & 0xff : 128 + low
                continuation.resume(returning: Outcome(output: output, status: code))
            }
        }
    }

    /// Calls `body` with a NULL-terminated array of C strings for `strings`.
    private static func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}
