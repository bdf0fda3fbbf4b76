import Testing
@testable import TributaryJetStream

@Suite("Pending async publishes by token")
struct PendingPublishRingTests {
    @Test("tokens count from 1; in-order removal keeps the ring empty behind the head")
    func inOrder() {
        var ring = PendingPublishRing<String>(minimumCapacity: 4)
        #expect(ring.capacity == 16)
        let tokens = (0..<40).map { ring.insert("m\($0)") }
        #expect(tokens.first == 1)
        #expect(ring.count == 40, "the count includes entries moved aside")
        #expect(ring.overflowCount == 24, "tokens 1...24 left the ring for the overflow table")
        #expect(ring.oldest == "m0")
        for (index, token) in tokens.enumerated() { #expect(ring.remove(token) == "m\(index)") }
        #expect(ring.isEmpty)
        #expect(ring.overflowCount == 0)
        #expect(ring.remove(tokens[0]) == nil, "a token ends once")
        #expect(ring.remove(999) == nil, "a token never handed out is unknown")
    }

    @Test("an entry left pending while later ones complete moves aside, and is still found")
    func lingering() {
        var ring = PendingPublishRing<Int>(minimumCapacity: 16)
        let stuck = ring.insert(0)
        for value in 1...100 {
            let token = ring.insert(value)
            #expect(ring.remove(token) == value)
        }
        #expect(ring.count == 1)
        #expect(ring.overflowCount == 1)
        #expect(ring.oldest == 0)
        #expect(ring.remove(stuck) == 0)
        #expect(ring.isEmpty)
        #expect(ring.oldest == nil)
    }

    @Test("out-of-order removal advances the head only past ended tokens")
    func outOfOrder() {
        var ring = PendingPublishRing<Int>(minimumCapacity: 16)
        let a = ring.insert(1), b = ring.insert(2), c = ring.insert(3)
        #expect(ring.remove(b) == 2)
        #expect(ring.oldest == 1)
        #expect(ring.remove(a) == 1)
        #expect(ring.oldest == 3)
        #expect(ring.head == c)
    }

    @Test("removeOldest takes due entries in token order, overflow first, and stops at the first not due")
    func expiry() {
        var ring = PendingPublishRing<Int>(minimumCapacity: 16)
        let first = ring.insert(10)
        for value in 11...40 { _ = ring.insert(value) }
        #expect(ring.overflowCount == 15)
        #expect(ring.remove(first) == 10)
        let due = ring.removeOldest { $0 <= 30 }
        #expect(due.map(\.entry) == Array(11...30))
        #expect(due.map(\.token) == Array(2...21))
        #expect(ring.count == 10)
        #expect(ring.oldest == 31)
        #expect(ring.removeOldest { _ in false }.isEmpty)
        #expect(ring.removeOldest { _ in true }.map(\.entry) == Array(31...40))
        #expect(ring.isEmpty)
    }
}
