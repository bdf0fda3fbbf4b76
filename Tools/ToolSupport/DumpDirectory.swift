#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file could not be written for `nats-sub --dump`.
public struct DumpError: Error, Sendable, CustomStringConvertible {
    /// What failed, with the path and the system's reason.
    public var message: String
    public var description: String { message }
}

/// Creating the `--dump` directory and writing its files (mode 0700 and 0600, as the nats CLI).
public enum DumpDirectory {
    /// Creates `path` and its missing parents.
    ///
    /// - Throws: `DumpError` naming the directory that could not be created.
    public static func create(_ path: String) throws(DumpError) {
        var current = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            current += (current.isEmpty || current.hasSuffix("/") ? "" : "/") + component
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw DumpError(message: "cannot create directory '\(current)' for --dump: \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw DumpError(message: "--dump '\(path)' exists and is not a directory")
        }
    }

    /// Writes `bytes` to `path`, replacing an existing file.
    ///
    /// - Throws: `DumpError` naming the file.
    public static func write(_ bytes: [UInt8], to path: String) throws(DumpError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DumpError(message: "cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let failed = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let written = systemWrite(descriptor, base + offset, raw.count - offset)
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { return true }
            }
            return false
        }
        if failed { throw DumpError(message: "cannot write '\(path)': \(String(cString: strerror(errno)))") }
    }
}

/// `write(2)`, named apart from `DumpDirectory.write`.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
