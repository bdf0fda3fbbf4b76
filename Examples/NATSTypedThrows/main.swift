// The README's "Typed errors inside closures" snippet, built by CI so it cannot rot.
// Run: swift run nats-typed-throws   (uses NATS_URL, default nats://127.0.0.1:4222)
import TributaryNATS

let nats = try await NATSClient.connect(NATSOptions())
let worker = Task {
    do throws(NATSError) {
        let reply = try await nats.request("ping", to: "svc.ping", timeout: .milliseconds(500))
        print("reply:", reply.string)
    } catch {
        // `error` is a NATSError here, so its code can be switched on.
        switch error.code {
        case .noResponders: print("nobody serves svc.ping")
        case .timeout: print("svc.ping did not answer in time")
        default: print("request failed:", error.message)
        }
    }
}
await worker.value
await nats.close()
