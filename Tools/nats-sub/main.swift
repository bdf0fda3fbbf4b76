// nats-sub SUBJECT...: print messages, like `nats sub` (and `nats sub --stream`). Parsing and
// formatting live in ToolSupport (SubscribeCommand, MessageFormat, MessagePrinter); this file
// only drives the client.
import Foundation
import JetStreamToolSupport
import ToolSupport
import TributaryJetStream
import TributaryNATS

let command = Tool.parseCommandLine(SubscribeCommand.self)
let tool = Tool(name: SubscribeCommand.spec.name)

/// How one subscription's loop ended.
enum LoopEnd: Sendable {
    case limitReached
    case ended
    case failed(NATSError)
}

/// The printer for the command's style, limit and `--dump` directory (created here).
func makePrinter() -> MessagePrinter {
    guard let directory = command.dumpDirectory else {
        return MessagePrinter(style: command.style, limit: command.count)
    }
    do throws(DumpError) {
        try DumpDirectory.create(directory)
    } catch {
        tool.fail(error.message, exitCode: .failure)
    }
    return MessagePrinter(style: command.style, limit: command.count, destination: .dump(directory: directory))
}

/// `message` with its payload piped through `--translate CMD` (unchanged without it).
func translated(_ message: NATSMessage) async -> NATSMessage {
    guard let translate = command.translate else { return message }
    do throws(ShellCommand.LaunchError) {
        let outcome = try await ShellCommand.run(translate, input: message.payload, environment: ["NATS_SUBJECT": message.subject])
        if outcome.status != 0 {
            tool.warn("--translate command exited with status \(outcome.status) for a message on \(MessageFormat.quoted(message.subject))")
        }
        var changed = message
        changed.payload = outcome.output
        return changed
    } catch {
        tool.fail("--translate: \(error.message)", exitCode: .failure)
    }
}

/// Prints (or dumps) one message; a dump failure ends the tool.
func show(_ printer: MessagePrinter, _ message: NATSMessage, jetStreamSummary: String? = nil, dumpName: String? = nil) -> MessagePrinter.Outcome {
    do throws(DumpError) {
        return try printer.print(message, jetStreamSummary: jetStreamSummary, dumpName: dumpName)
    } catch {
        tool.fail(error.message, exitCode: .failure)
    }
}

/// Prints a request with its matched reply; a dump failure ends the tool.
func printPair(_ printer: MessagePrinter, _ request: NATSMessage, number: Int, reply: NATSMessage) {
    do throws(DumpError) {
        try printer.print(request, number: number, matchedReply: reply)
    } catch {
        tool.fail(error.message, exitCode: .failure)
    }
}

/// Replays a stream through an ordered consumer (`--stream`), printing each message with its
/// JetStream summary; deletes the consumer when it ends (limit, -T, Ctrl-C).
func replay(_ client: NATSClient, _ replay: SubscribeCommand.StreamReplay) async -> ToolExitCode {
    var jsOptions = JetStreamOptions()
    jsOptions.requestTimeout = command.connection.timeout
    let subject = command.subjects.first
    let consumer: JetStreamOrderedMessages
    let js: JetStreamContext
    do throws(JetStreamError) {
        js = try JetStreamContext(client: client, options: jsOptions)
        _ = try await js.streamInfo(replay.stream)
        var options = JetStreamOrderedConsumerOptions()
        if let subject { options.filterSubjects = [subject] }
        options.headersOnly = command.style.headersOnly
        switch replay.start {
        case .all: options.deliverPolicy = .all
        case .new: options.deliverPolicy = .new
        case .last: options.deliverPolicy = .last
        case .lastPerSubject: options.deliverPolicy = .lastPerSubject
        case .sequence(let sequence):
            options.deliverPolicy = .byStartSequence
            options.startSequence = sequence
        case .since(let duration):
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            let (seconds, attoseconds) = duration.components
            options.deliverPolicy = .byStartTime
            options.startTime = JetStreamToolFormat.time(nanoseconds: now - seconds * 1_000_000_000 - attoseconds / 1_000_000_000)
        }
        consumer = try js.orderedConsumer(stream: replay.stream, options: options)
        // Create the consumer before announcing, so that --new counts from the announcement.
        try await consumer.start()
    } catch {
        tool.fail(error.message, exitCode: JetStreamTool.exitCode(for: error))
    }
    if !command.style.raw {
        tool.status(MessageFormat.replaying(subject: subject, stream: replay.stream, start: replay.start))
    }
    let printer = makePrinter()
    var failure: JetStreamError?
    do throws(JetStreamError) {
        for try await message in consumer {
            let metadata = message.metadata
            let summary = metadata.map { JetStreamToolFormat.subscribeSummary($0, subject: message.subject) }
            let shown = await translated(message.message)
            if show(printer, shown, jetStreamSummary: summary, dumpName: metadata.map { String($0.streamSequence) }) != .printed { break }
            if replay.terminateAtEnd, metadata?.pending == 0 { break }
        }
    } catch {
        failure = error
    }
    // After Ctrl-C this task is cancelled, which would cancel the delete request too: delete
    // from a fresh task (the tool's grace period bounds it). Cancellation may already have
    // stopped the sequence, whose own delete runs in the background and could be cut short by
    // the exit, so the current consumer is deleted here by name as well.
    let name = consumer.currentConsumerName
    let stream = replay.stream
    await Task {
        await consumer.close()
        try? await js.deleteConsumer(stream: stream, name: name)
    }.value
    if let failure {
        tool.fail(failure.message, exitCode: JetStreamTool.exitCode(for: failure))
    }
    await client.close()
    return .success
}

await tool.run {
    let client = await tool.connect(command.connection)
    tool.reportConnectionEvents(of: client)
    if let streamReplay = command.replay {
        return await replay(client, streamReplay)
    }
    let printer = makePrinter()
    let subjects = command.inbox ? [client.newInbox()] : command.subjects
    let matcher = ReplyMatcher()
    var subscriptions: [NATSSubscription] = []
    var replies: NATSSubscription?
    do throws(NATSError) {
        for subject in subjects {
            let subscription = try client.subscribe(to: subject, queue: command.queue)
            // Each subscription needs at most --count messages; the server stops after that.
            if let count = command.count, !command.matchReplies { try subscription.unsubscribe(after: count) }
            subscriptions.append(subscription)
        }
        if command.matchReplies {
            replies = try client.subscribe(to: NATSOptions.defaultInboxPrefix + ".>")
        }
        // Announce only once the server has the subscriptions, so a publisher started after
        // this line is seen.
        try await client.flush()
    } catch {
        tool.fail(error)
    }
    let quietStart = command.style.raw
    if command.matchReplies, !quietStart {
        tool.status("Matching replies with inbox prefix \(NATSOptions.defaultInboxPrefix).>")
    }
    if !quietStart || command.inbox {
        tool.status(MessageFormat.subscribing(to: subjects, queue: command.queue))
    }

    let end = await withTaskGroup(of: LoopEnd.self) { group -> LoopEnd in
        for subscription in subscriptions {
            group.addTask {
                do throws(NATSError) {
                    for try await received in subscription {
                        let message = await translated(received)
                        if command.matchReplies, message.replyTo != nil {
                            // Held until its reply arrives; printed by the reply loop below.
                            guard let claimed = printer.claimNumber() else { return .ended }
                            if let early = matcher.hold(message, number: claimed.number) {
                                printPair(printer, message, number: claimed.number, reply: await translated(early))
                            }
                            if claimed.isLast { return matcher.pendingCount == 0 ? .limitReached : .ended }
                            continue
                        }
                        let outcome = show(printer, message)
                        if outcome != .printed {
                            return command.matchReplies && matcher.pendingCount > 0 ? .ended : .limitReached
                        }
                    }
                    return .ended
                } catch {
                    return .failed(error)
                }
            }
        }
        if let replies {
            group.addTask {
                do throws(NATSError) {
                    for try await received in replies {
                        guard let held = matcher.take(received) else { continue }
                        printPair(printer, held.request, number: held.number, reply: await translated(received))
                        if printer.limitReached, matcher.pendingCount == 0 { return .limitReached }
                    }
                    return .ended
                } catch {
                    return .failed(error)
                }
            }
        }
        for await end in group {
            switch end {
            case .limitReached, .failed:
                group.cancelAll()
                return end
            case .ended:
                continue
            }
        }
        return .ended
    }

    switch end {
    case .limitReached:
        await client.close()
        return .success
    case .failed(let error):
        tool.fail(error)
    case .ended:
        if Task.isCancelled {
            await client.close()
            return .success
        }
        tool.fail("the connection closed after \(printer.printedCount) messages", exitCode: .connection)
    }
}
