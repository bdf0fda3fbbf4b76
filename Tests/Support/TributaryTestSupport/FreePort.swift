import TributaryWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ports `freePort()` returned in this process, so that parallel tests never get the same one.
private enum FreePortRegistry {
    static let handedOut = Locked<Set<Int>>([])
}

/// A TCP port on 127.0.0.1 that is free right now.
///
/// Binds a socket to 127.0.0.1:0, reads the port the kernel chose, and closes the socket.
/// A port is returned at most once per process. Another process can still take it before
/// the caller binds it; broker launchers report that as "address already in use".
/// - Throws: `BrokerEnvironmentError` when no socket can be bound.
public func freePort() throws -> Int {
    for _ in 0..<64 {
        let port = try bindEphemeralPort()
        let isNew = FreePortRegistry.handedOut.withLock { $0.insert(port).inserted }
        if isNew { return port }
    }
    throw BrokerEnvironmentError("no fresh free port on 127.0.0.1 after 64 tries")
}

private func bindEphemeralPort() throws -> Int {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else {
        throw BrokerEnvironmentError("socket() failed: \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var address = BrokerSocket.loopbackAddress(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0 else {
        throw BrokerEnvironmentError("bind(127.0.0.1:0) failed: \(String(cString: strerror(errno)))")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            getsockname(fd, $0, &length)
        }
    }
    guard named == 0 else {
        throw BrokerEnvironmentError("getsockname failed: \(String(cString: strerror(errno)))")
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
