/// A growable set of small non-negative integers (message ids), one bit each: a 30-minute run
/// records millions of ids, and a `Set<Int>` of them would dominate the client RSS the report
/// measures.
public struct SoakBitSet: Sendable, Equatable {
    private(set) var words: [UInt64] = []

    /// An empty set.
    public init() {}

    /// Inserts `id`; true when it was not there before. Negative ids are ignored (false).
    @discardableResult
    public mutating func insert(_ id: Int) -> Bool {
        guard id >= 0 else { return false }
        let (word, bit) = id.quotientAndRemainder(dividingBy: 64)
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        let mask = UInt64(1) << UInt64(bit)
        let fresh = words[word] & mask == 0
        words[word] |= mask
        return fresh
    }

    /// Whether `id` is in the set.
    public func contains(_ id: Int) -> Bool {
        guard id >= 0 else { return false }
        let (word, bit) = id.quotientAndRemainder(dividingBy: 64)
        return word < words.count && words[word] & (UInt64(1) << UInt64(bit)) != 0
    }

    /// How many ids the set holds.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Word `index`, 0 past the end.
    func word(_ index: Int) -> UInt64 { index < words.count ? words[index] : 0 }

    /// Number of words needed to cover all of `sets`.
    static func span(_ sets: SoakBitSet...) -> Int { sets.map(\.words.count).max() ?? 0 }

    /// Sets word `index` (growing as needed).
    mutating func setWord(_ index: Int, _ value: UInt64) {
        if index >= words.count {
            guard value != 0 else { return }
            words.append(contentsOf: repeatElement(0, count: index - words.count + 1))
        }
        words[index] = value
    }
}
