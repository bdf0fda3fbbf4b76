#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A child process for the tests and test tools, started with `posix_spawn` and reaped by its own
/// `waitpid(pid, WNOHANG)` polls.
///
/// It replaces Foundation's `Process` here. swift-corelibs-foundation watches its children from
/// one monitor thread, and that thread was seen blocked in a blocking `wait4` of a child that was
/// still alive; from then on no child's exit was reported, so every `waitUntilExit` and
/// `isRunning` in the test process hung. Here each child is waited for by pid, without blocking,
/// by whoever asks, and nothing else in the process waits for it.
///
/// The child inherits only descriptors 0, 1 and 2 (every other descriptor is closed in the child),
/// so a pipe or socket that another test thread opens at the same moment never leaks into it.
/// The API follows the part of `Process` the tests used: set the properties, then `run()`.
public final class Subprocess: @unchecked Sendable {
    // The configuration is set by one task before `run()`; `state` guards the rest.
    public var executableURL: URL?
    public var arguments: [String]?
    /// The child's whole environment; `nil` passes this process's environment.
    public var environment: [String: String]?
    public var currentDirectoryURL: URL?
    /// What the child reads and writes: a `SubprocessPipe`, a `FileHandle`
    /// (`FileHandle.nullDevice` opens /dev/null), or `nil` to inherit this process's descriptor.
    public var standardInput: (any SubprocessIO)?
    public var standardOutput: (any SubprocessIO)?
    public var standardError: (any SubprocessIO)?
    /// Starts the child in a new session (and process group), so `signalGroup` reaches it and
    /// everything it starts, and a terminal's signals do not.
    public var startsNewSession = false

    private struct State {
        var pid: pid_t = 0
        var status: Int32?
        var signaled = false
    }
    private let state = Mutex(State())

    public init() {}

    public convenience init(_ executable: String, _ arguments: [String]) {
        self.init()
        executableURL = URL(fileURLWithPath: executable)
        self.arguments = arguments
    }

    deinit {
        // Reaps a child that already ended, so it does not stay a zombie; a live child is left alone.
        _ = poll()
    }

    /// The child's pid (0 before `run()`).
    public var processIdentifier: Int32 { state.withLock { $0.pid } }

    /// Whether the child was started and has not ended.
    public var isRunning: Bool {
        guard processIdentifier != 0 else { return false }
        return poll() == nil
    }

    /// The exit status of a child that exited, or the signal number of one a signal ended (as
    /// Foundation's `Process` reports it). Read it after the child ended.
    public var terminationStatus: Int32 { poll() ?? 0 }

    /// Whether a signal ended the child.
    public var terminatedBySignal: Bool {
        _ = poll()
        return state.withLock { $0.signaled }
    }

    /// Starts the child.
    ///
    /// - Throws: `BrokerEnvironmentError` naming the executable and the reason when it cannot start.
    public func run() throws {
        guard let path = executableURL?.path else { throw BrokerEnvironmentError("Subprocess.run: no executableURL set") }
        guard processIdentifier == 0 else { throw BrokerEnvironmentError("Subprocess.run: \(path) was already started") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        // Descriptors 0–2: each redirect is dup2'ed from this process's descriptor (dup2 clears
        // close-on-exec on the copy), or /dev/null is opened in the child.
        let redirects: [(any SubprocessIO)?] = [standardInput, standardOutput, standardError]
        for (target, redirect) in redirects.enumerated() {
            guard let redirect else { continue }
            switch redirect.childEnd(forChildInput: target == 0) {
            case .descriptor(let fd):
                posix_spawn_file_actions_adddup2(&actions, fd, Int32(target))
            case .nullDevice:
                posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        #if canImport(Glibc)
        guard let closeFrom = SpawnExtensions.closeFrom else {
            throw BrokerEnvironmentError("Subprocess.run needs posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later)")
        }
        _ = closeFrom(&actions, 3)
        #endif
        if let directory = currentDirectoryURL?.path {
            guard let changeDirectory = SpawnExtensions.changeDirectory else {
                throw BrokerEnvironmentError("Subprocess.run needs posix_spawn_file_actions_addchdir_np (glibc 2.29 or later)")
            }
            _ = changeDirectory(&actions, directory)
        }

        // Default signal dispositions and an empty mask: an ignored SIGPIPE or a blocked signal of
        // this process must not carry over into the child.
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        if startsNewSession { flags |= SpawnExtensions.newSession }
        posix_spawnattr_setflags(&attributes, Int16(truncatingIfNeeded: flags))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        sigdelset(&allSignals, SIGKILL)
        sigdelset(&allSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)

        let argv = [path] + (arguments ?? [])
        let environmentPairs = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let status = withCStrings(argv) { argvPointers in
            withCStrings(environmentPairs) { environmentPointers in
                posix_spawn(&pid, path, &actions, &attributes, argvPointers, environmentPointers)
            }
        }
        guard status == 0 else {
            throw BrokerEnvironmentError("could not start \(path): \(String(cString: strerror(status)))")
        }
        state.withLock { $0.pid = pid }
        // This process's copies of the child's ends: closing them lets the reader of a pipe see end
        // of file when the child exits, and the child see end of input when the writer closes.
        for (target, redirect) in redirects.enumerated() {
            redirect?.closeChildEndInParent(forChildInput: target == 0)
        }
    }

    /// Sends `signal` to the child, if it is still running (a reaped pid may belong to another process).
    public func signal(_ signal: Int32) { send(signal, toGroup: false) }

    /// Sends `signal` to the child's process group (the child and what it started), when it runs in
    /// a new session (`startsNewSession`); otherwise to the child alone.
    public func signalGroup(_ signal: Int32) { send(signal, toGroup: startsNewSession) }

    private func send(_ signal: Int32, toGroup: Bool) {
        state.withLock { state in
            guard state.pid != 0, state.status == nil else { return }
            _ = kill(toGroup ? -state.pid : state.pid, signal)
        }
    }

    /// SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// Blocks this thread until the child ended. Call it from a thread of its own or through
    /// `offThePool`, never on a Swift concurrency thread; in async code use `exited(within:)`.
    public func waitUntilExit() {
        var pause: UInt32 = 1_000
        while isRunning {
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    /// Waits without blocking a thread until the child ended or `timeout` passed; returns whether
    /// it ended.
    public func exited(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        var pause = Duration.milliseconds(1)
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(20))
        }
        return true
    }

    /// Kills the child (SIGKILL, to its group when it has one) and waits until it is reaped.
    public func killAndReap() async {
        signalGroup(SIGKILL)
        _ = await exited(within: .seconds(3600))
    }

    /// The status once the child ended (reaping it on the first call that sees the end), else nil.
    private func poll() -> Int32? {
        state.withLock { state in
            if let status = state.status { return status }
            guard state.pid != 0 else { return nil }
            var raw: Int32 = 0
            while true {
                let result = waitpid(state.pid, &raw, WNOHANG)
                if result == 0 { return nil }
                if result == -1 && errno == EINTR { continue }
                if result == -1 {
                    // ECHILD: something else reaped it; the status is lost.
                    state.status = -1
                    return -1
                }
                break
            }
            let signal = raw & 0x7f
            if signal == 0 {
                state.status = (raw >> 8) & 0xff
            } else {
                state.status = signal
                state.signaled = true
            }
            return state.status
        }
    }
}

/// The GNU extensions of posix_spawn, which Swift's Glibc module does not declare; looked up at
/// run time (they are in glibc since 2.29 and 2.34, and in macOS's libc).
private enum SpawnExtensions {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let closeFrom: CloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    static let changeDirectory: ChangeDirectory? = symbol("posix_spawn_file_actions_addchdir_np")
    #if canImport(Glibc)
    /// glibc's POSIX_SPAWN_SETSID.
    static let newSession: Int32 = 0x80
    #else
    static let newSession = Int32(POSIX_SPAWN_SETSID)
    #endif

    private static func symbol<T>(_ name: String) -> T? {
        #if canImport(Glibc)
        let handle = dlopen(nil, RTLD_NOW)
        #else
        let handle = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #endif
        guard let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: T.self)
    }
}

/// Calls `body` with a NULL-terminated C array of `strings`.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return body(pointers + [nil])
}

/// The child's end of a redirection.
public enum SubprocessChildEnd {
    case descriptor(Int32)
    case nullDevice
}

/// Something a `Subprocess` can connect to the child's standard input, output or error.
public protocol SubprocessIO: AnyObject {
    /// The descriptor the child gets, for its input (`forChildInput`) or for an output.
    func childEnd(forChildInput: Bool) -> SubprocessChildEnd
    /// Called after the spawn: closes this process's copy of an end only the child uses.
    func closeChildEndInParent(forChildInput: Bool)
}

/// A pipe whose two ends are close-on-exec.
public final class SubprocessPipe: SubprocessIO, @unchecked Sendable {
    // Both handles are immutable references; FileHandle serialises its own use.
    public let fileHandleForReading: FileHandle
    public let fileHandleForWriting: FileHandle

    public init() {
        var descriptors: [Int32] = [-1, -1]
        // (A Subprocess child closes every descriptor above 2 anyway; close-on-exec also keeps these
        // from anything else that starts a program.)
        let made = pipe(&descriptors) == 0
        precondition(made, "pipe failed: \(String(cString: strerror(errno)))")
        descriptors.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        fileHandleForReading = FileHandle(fileDescriptor: descriptors[0], closeOnDealloc: true)
        fileHandleForWriting = FileHandle(fileDescriptor: descriptors[1], closeOnDealloc: true)
    }

    public func childEnd(forChildInput: Bool) -> SubprocessChildEnd {
        .descriptor(forChildInput ? fileHandleForReading.fileDescriptor : fileHandleForWriting.fileDescriptor)
    }

    public func closeChildEndInParent(forChildInput: Bool) {
        try? (forChildInput ? fileHandleForReading : fileHandleForWriting).close()
    }

    /// Reads until end of file (the writer and every copy of its end closed).
    public func readToEnd() -> Data {
        (try? fileHandleForReading.readToEnd()) ?? Data()
    }
}

extension FileHandle: SubprocessIO {
    public func childEnd(forChildInput: Bool) -> SubprocessChildEnd {
        self === FileHandle.nullDevice ? .nullDevice : .descriptor(fileDescriptor)
    }

    /// A file handle stays open: the caller owns it.
    public func closeChildEndInParent(forChildInput: Bool) {}
}
