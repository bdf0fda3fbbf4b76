/// What ``Generator/write(to:)`` did, or what ``Generator/plan(for:)`` would do, with
/// package-relative paths in sorted order.
public struct GenerationReport: Sendable, Equatable {
    /// Files created or rewritten because their contents changed.
    public var written: [String] = []
    /// Files whose committed contents already match; they are not touched.
    public var unchanged: [String] = []
    /// Stale `.swift` files in an owned `Generated/` directory that no spec produces.
    public var deleted: [String] = []

    /// Whether the committed files already match the specs.
    public var isUpToDate: Bool { written.isEmpty && deleted.isEmpty }
}
