#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ToolSupport

/// A `tributary-bridge` process run from a configuration file, so that its CPU time and memory
/// are measured apart from the sender and the reader.
final class ServiceProcess {
    let pid: pid_t
    let configPath: String
    let logPath: String
    private var exited = false

    /// Starts `binary configPath` with stdout discarded and stderr in `logPath`.
    init(binary: String, configPath: String, logPath: String) throws {
        guard access(binary, X_OK) == 0 else {
            throw BenchFailure("no executable tributary-bridge at '\(binary)': build it (swift build -c release --product tributary-bridge) or name it with --service PATH")
        }
        self.configPath = configPath
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let arguments = [binary, configPath]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, binary, &actions, nil, &argv, environ)
        guard status == 0 else { throw BenchFailure("cannot start '\(binary)': \(String(cString: strerror(status)))") }
        pid = child
    }

    /// What the service wrote on stderr so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Whether the process is still running (reaps it when it has exited).
    var isRunning: Bool {
        if exited { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    /// User + system CPU seconds the process used so far.
    func cpuSeconds() -> Double { ProcessResources.cpuSeconds(of: pid) }

    /// Peak resident memory in KiB, -1 when unknown.
    func peakRSSKB() -> Int { ProcessResources.peakRSSKB(of: pid) }

    /// SIGTERM (the service drains), then waits up to `seconds` for it to exit, then SIGKILL.
    func stop(within seconds: Int = 60) async {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        for _ in 0..<(seconds * 100) {
            if !isRunning { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exited = true
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The JSON configuration of a one-route `tributary-bridge` for `mode`.
func serviceConfiguration(mode: String, natsURL: String, brokers: String, prefix: String, topic: String, stream: String,
                          group: String, partitions: Int32, maxInFlight: Int?) -> String {
    let quoted = MessageFormat.jsonString
    var route: [String] = [#""name": "bench""#]
    var kafka: [String] = [#""bootstrap.servers": \#(quoted(brokers))"#]
    switch mode {
    case "nats-to-kafka":
        route += [#""from": {"nats": \#(quoted(prefix + ".>"))}"#, #""to": {"kafka": \#(quoted(topic))}"#, #""key": {"subject_token": 2}"#]
    case "jetstream-to-kafka":
        route += [#""from": {"jetstream": {"stream": \#(quoted(stream)), "consumer": "bridge"}}"#, #""to": {"kafka": \#(quoted(topic))}"#,
                  #""key": {"subject_token": 2}"#]
    default:
        let to = mode == "kafka-to-jetstream" ? "jetstream" : "nats"
        route += [#""from": {"kafka": [\#(quoted(topic))], "group": \#(quoted(group))}"#, #""to": {"\#(to)": \#(quoted(prefix + ".{partition}"))}"#,
                  #""concurrency": \#(partitions)"#, #""start_from": "earliest""#]
        kafka += [#""session.timeout.ms": 6000"#, #""heartbeat.interval.ms": 500"#, #""fetch.wait.max.ms": 10"#]
    }
    if let maxInFlight { route.append(#""max_in_flight": \#(maxInFlight)"#) }
    return """
    {"id": "bridge-bench", "status_interval": 0, "nats": {"url": \(quoted(natsURL))},
     "kafka": {\(kafka.joined(separator: ", "))},
     "routes": [{\(route.joined(separator: ", "))}]}

    """
}
