extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the body's typed error.
    @inlinable
    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var failure: E?
        let value: R? = withUnsafeBytes { raw -> R? in
            do throws(E) {
                return try body(raw)
            } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        // `value` is nil only when `body` threw, handled above.
        return value.unsafelyUnwrapped
    }
}

extension String {
    /// `withUTF8` that keeps the body's typed error.
    @inlinable
    public mutating func withUTF8Bytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var failure: E?
        let value: R? = withUTF8 { bytes -> R? in
            do throws(E) {
                return try body(UnsafeRawBufferPointer(bytes))
            } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        return value.unsafelyUnwrapped
    }
}
