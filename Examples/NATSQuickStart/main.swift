// The README's NATS quick start, built by CI so it cannot rot.
// Run: swift run nats-quickstart   (uses NATS_URL, default nats://127.0.0.1:4222)
import TributaryNATS

@main
struct NATSQuickStart {
    static func main() async throws {
        // README: connect
        var options = NATSOptions()          // servers from NATS_URL
        options.name = "orders-service"
        let nats = try await NATSClient.connect(options)

        // README: subscribe and publish
        let sub = try nats.subscribe(to: "orders.>")
        var headers = NATSHeaders()
        headers["Order-Id"] = "o-1001"
        try nats.publish("created", to: "orders.created", headers: headers)
        try await nats.flush()                // the server has it
        for try await message in sub {
            print("\(message.subject): \(message.string) [Order-Id: \(message.headers?["Order-Id"] ?? "-")]")
            break
        }

        // README: request/reply
        let service = try nats.subscribe(to: "inventory.check", queue: "inventory")
        let responder = Task {
            for try await request in service {
                try nats.respond(to: request, with: Array("in-stock:\(request.string)".utf8))
            }
        }
        let reply = try await nats.request("sku-42", to: "inventory.check", timeout: .seconds(2))
        print("reply: \(reply.string)")
        do {
            _ = try await nats.request("x", to: "nobody.listens")
        } catch {
            guard error.code == .noResponders else { throw error }
            print("no responders, as expected")
        }
        responder.cancel()

        // README: events and drain
        let events = Task { for await event in nats.events { print("event: \(event)") } }
        try await nats.drain()
        _ = await events.value
    }
}
