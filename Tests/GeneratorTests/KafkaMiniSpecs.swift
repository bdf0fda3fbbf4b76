import Foundation
import TributaryGenKit

/// Small, valid `kafka.message` and `kafka.errors` specs for renderer and validation tests.
enum KafkaMiniSpecs {
    static let messagePath = "kafka/messages/007-Tiny.json"
    static let errorsPath = "kafka/errors.json"

    static let messageSpec = #"""
        {
          "family": "kafka.message",
          "source": { "title": "Tiny API", "upstream": "apache/kafka", "version": "9.9.9" },
          "apiKey": 7,
          "name": "Tiny",
          "doc": "A tiny API.",
          "upstreamFiles": ["TinyRequest.json", "TinyResponse.json"],
          "upstreamVersions": "0-3",
          "versions": "0-2",
          "versionsRationale": "Enough for tests.",
          "flexibleVersions": "2+",
          "request": {
            "doc": "Asks.",
            "fields": [
              { "name": "GroupId", "type": "string", "versions": "0+", "doc": "The group." },
              { "name": "TimeoutMs", "type": "int32", "versions": "1+", "default": -1, "ignorable": true, "doc": "The timeout." },
              { "name": "Items", "type": "[]Item", "versions": "0+", "nullableVersions": "1+", "doc": "The items.", "fields": [
                { "name": "ItemId", "type": "int32", "versions": "0+", "doc": "The item." },
                { "name": "Label", "type": "string", "versions": "1+", "nullableVersions": "2+", "doc": "The label." }
              ]},
              { "name": "Extra", "type": "int64", "versions": "2+", "tag": 0, "taggedVersions": "2+", "default": -1, "doc": "Extra." },
              { "name": "Note", "type": "string", "versions": "2+", "nullableVersions": "2+", "tag": 1, "taggedVersions": "2+", "default": null, "ignorable": true, "doc": "A note." }
            ]
          },
          "response": {
            "doc": "Answers.",
            "fields": [
              { "name": "ErrorCode", "type": "int16", "versions": "0+", "doc": "The error." }
            ]
          }
        }
        """#

    static let errorsSpec = #"""
        {
          "family": "kafka.errors",
          "source": { "title": "Tiny errors", "upstream": "apache/kafka", "version": "9.9.9" },
          "errors": [
            { "code": -1, "name": "UNKNOWN_SERVER_ERROR", "retriable": false, "description": "Broken.", "hint": "Look." },
            { "code": 0, "name": "NONE", "swiftName": "noError", "retriable": false, "description": "Fine.", "hint": "Nothing." },
            { "code": 25, "name": "UNKNOWN_MEMBER_ID", "retriable": false, "description": "Who?", "hint": "Rejoin." }
          ]
        }
        """#

    /// Writes the NATS mini specs and both Kafka mini specs under `root`, after applying the
    /// replacement to the Kafka spec at `file`.
    static func write(under root: URL, changing file: String? = nil, replacing old: String = "", with new: String = "") throws {
        try MiniSpecs.write(under: root)
        var message = messageSpec
        var errors = errorsSpec
        if file == messagePath {
            guard message.contains(old) else { throw GeneratorTestSupport.SetupError(description: "mini message spec lacks \(old)") }
            message = message.replacingOccurrences(of: old, with: new)
        } else if file == errorsPath {
            guard errors.contains(old) else { throw GeneratorTestSupport.SetupError(description: "mini errors spec lacks \(old)") }
            errors = errors.replacingOccurrences(of: old, with: new)
        }
        try GeneratorTestSupport.write(message, to: messagePath, under: root)
        try GeneratorTestSupport.write(errors, to: errorsPath, under: root)
    }
}
