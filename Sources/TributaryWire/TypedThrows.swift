extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the body's typed error.
    @inlinable
    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result = withUnsafeBytes { raw -> Result<R, E> in
            do throws(E) {
                return .success(try body(raw))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension String {
    /// `withUTF8` that keeps the body's typed error.
    @inlinable
    public mutating func withUTF8Bytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result = withUTF8 { bytes -> Result<R, E> in
            do throws(E) {
                return .success(try body(UnsafeRawBufferPointer(bytes)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
