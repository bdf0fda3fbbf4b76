// The README's key-value quick start, built by CI so it cannot rot.
// Run: swift run kv-quickstart   (uses NATS_URL, default nats://127.0.0.1:4222; needs nats-server -js)
import TributaryJetStream
import TributaryNATS

@main
struct KeyValueQuickStart {
    static func main() async throws {
        // README: a bucket, values and compare-and-set
        let nats = try await NATSClient.connect(NATSOptions())   // servers from NATS_URL
        let js = try JetStreamContext(client: nats)
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: "settings", history: 5))

        let first = try await kv.put("theme.color", "teal")
        let entry = try await kv.get("theme.color")
        print("\(entry.key) = \(entry.string) at revision \(entry.revision)")

        try await kv.update("theme.color", "navy", lastRevision: first)   // compare and set
        do {
            try await kv.update("theme.color", "red", lastRevision: first)   // stale revision
        } catch let error {
            switch error.code {
            case .wrongLastRevision: print("someone else changed it: read again, then retry")
            default: throw error
            }
        }
        do {
            try await kv.create("theme.color", "green")                      // only if absent
        } catch let error {
            guard error.code == .keyExists else { throw error }
            print("theme.color already has a value")
        }

        // README: keys, history, delete and purge
        try await kv.put("theme.font", "serif")
        print("keys: \(try await kv.keys(matching: ["theme.*"]).sorted())")
        print("history: \(try await kv.history("theme.color").map(\.string))")
        try await kv.delete("theme.font")      // a marker; history kept
        try await kv.create("theme.font", "sans")   // create works after a delete
        try await kv.purge("theme.font")       // a marker that removes the history

        // README: watching
        let watcher = try await kv.watch(keys: ["theme.>"])
        let changer = Task { _ = try await kv.put("theme.color", "plum") }
        loop: for try await event in watcher {
            switch event {
            case .entry(let entry) where entry.operation == .put:
                print("\(entry.key) = \(entry.string) (revision \(entry.revision))")
                if entry.string == "plum" { break loop }
            case .entry(let entry):
                print("\(entry.key) was \(entry.operation == .delete ? "deleted" : "purged")")
            case .initialValuesDone:
                print("current values done; now watching for changes")
            }
        }
        await watcher.close()
        try await changer.value

        try await js.deleteKeyValue("settings")
        await nats.close()
    }
}
