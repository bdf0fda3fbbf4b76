// The README's object store quick start, built by CI so it cannot rot.
// Run: swift run objectstore-quickstart   (uses NATS_URL, default nats://127.0.0.1:4222; needs nats-server -js)
import TributaryJetStream
import TributaryNATS

@main
struct ObjectStoreQuickStart {
    static func main() async throws {
        // README: buckets and objects
        let nats = try await NATSClient.connect(NATSOptions())   // servers from NATS_URL
        let js = try JetStreamContext(client: nats)
        var config = ObjectStoreConfig(bucket: "reports")
        config.ttl = .seconds(30 * 86_400)
        let store = try await js.createObjectStore(config)

        let info = try await store.put("2026/q3.txt", string: "revenue up")
        print("\(info.name): \(info.size) bytes in \(info.chunks) chunk(s), \(info.digest ?? "")")
        print(try await store.getString("2026/q3.txt"))

        // README: large objects, streamed both ways
        try await store.put(ObjectMeta(name: "backup.tar", description: "nightly"), fileAt: "/etc/hostname")
        var received = 0
        for try await chunk in try await store.get("backup.tar") {   // digest checked before the last chunk
            received += chunk.count
        }
        try await store.get("backup.tar", toFile: "/tmp/backup.tar")
        print("read \(received) bytes")

        // README: links, metadata, listing and watching
        try await store.addLink("latest", to: try await store.info("2026/q3.txt"))
        try await store.updateMeta("backup.tar", meta: ObjectMeta(name: "backup-2026-12-06.tar"))
        for object in try await store.list() {
            print(object.name, object.isLink ? "-> \(object.link?.name ?? "")" : "\(object.size) bytes")
        }
        let watcher = try await store.watch()
        for try await event in watcher {
            if case .initialValuesDone = event { break }
        }
        await watcher.close()

        do {
            _ = try await store.getBytes("missing")
        } catch let error {
            switch error.code {
            case .objectNotFound: print("not there")
            case .digestMismatch, .objectSizeMismatch: print("corrupt: \(error)")
            default: throw error
            }
        }
        try await js.deleteObjectStore("reports")
        await nats.close()
    }
}
