import Testing
@testable import TributaryNATSProtocol

@Suite("Publishes awaiting a reply")
struct AwaitedRepliesTests {
    static func filled(_ count: Int) -> AwaitedReplies {
        var replies = AwaitedReplies()
        for index in 1...count { replies.append("_INBOX.acks.\(index)", end: index * 100) }
        return replies
    }

    @Test("a reply confirms its publish and drops the older entries with it")
    func inOrder() {
        var replies = Self.filled(5)
        #expect(replies.match("_INBOX.acks.1") == 100)
        #expect(replies.count == 4)
        #expect(replies.match("_INBOX.acks.3") == 300)
        #expect(replies.count == 2)
        #expect(replies.match("_INBOX.acks.2") == nil, "2 was confirmed by 3's reply")
        #expect(replies.match("_INBOX.acks.5") == 500)
        #expect(replies.isEmpty)
    }

    @Test("subjects of the same length that differ only early are told apart")
    func sameLengthSubjects() {
        var replies = AwaitedReplies()
        replies.append("_INBOX.aaaa.1", end: 10)
        #expect(replies.match("_INBOX.bbbb.1") == nil)
        #expect(replies.match("_INBOX.aaaa.1") == 10)
    }

    @Test("the first publish with a given reply subject is the one confirmed")
    func duplicates() {
        var replies = AwaitedReplies()
        replies.append("_INBOX.r", end: 10)
        replies.append("_INBOX.r", end: 20)
        #expect(replies.match("_INBOX.r") == 10)
        #expect(replies.match("_INBOX.r") == 20)
    }

    @Test("entries a PONG confirmed leave the front")
    func dropConfirmed() {
        var replies = Self.filled(10)
        replies.dropConfirmed(upTo: 450)
        #expect(replies.count == 6)
        #expect(replies.match("_INBOX.acks.4") == nil)
        #expect(replies.match("_INBOX.acks.5") == 500)
    }

    @Test("a reply is looked for among the oldest entries only")
    func searchDepth() {
        let depth = AwaitedReplies.searchDepth
        var replies = Self.filled(depth + 10)
        #expect(replies.match("_INBOX.acks.\(depth + 5)") == nil)
        #expect(replies.match("_INBOX.acks.\(depth)") == depth * 100)
        #expect(replies.match("_INBOX.acks.\(depth + 5)") == (depth + 5) * 100)
    }

    @Test("the front is compacted as entries are matched, in long runs too")
    func longRun() {
        var replies = AwaitedReplies()
        for index in 1...10_000 {
            replies.append("_INBOX.acks.\(index)", end: index)
            if index > 3 { #expect(replies.match("_INBOX.acks.\(index - 3)") == index - 3) }
        }
        #expect(replies.count == 3)
    }
}
