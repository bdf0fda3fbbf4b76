/// Turns Kafka's field and struct names into Swift names, fixing acronyms as the style guide
/// asks (`MemberId` → `memberID`, `LeaderIdAndEpoch` → `LeaderIDAndEpoch`).
public enum KafkaNaming {
    /// Words written as acronyms in Swift names when they are not the first word of a
    /// lowerCamelCase name. Kafka spells them as ordinary words (`Id`, `Sasl`).
    public static let acronyms: [String: String] = [
        "Id": "ID", "Ids": "IDs", "Uuid": "UUID", "Url": "URL", "Sasl": "SASL", "Acl": "ACL",
        "Acls": "ACLs", "Crc": "CRC", "Tls": "TLS", "Zk": "ZK", "Isr": "ISR", "Json": "JSON", "Api": "API",
    ]

    /// Splits a camel-case name into words: a new word starts at an uppercase letter that follows a
    /// lowercase letter or digit (`ZkMigrationReady` → `Zk`, `Migration`, `Ready`).
    public static func words(_ name: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousWasLowerOrDigit = false
        for character in name {
            if character.isUppercase, previousWasLowerOrDigit, !current.isEmpty {
                words.append(current)
                current = ""
            }
            current.append(character)
            previousWasLowerOrDigit = character.isLowercase || character.isNumber
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// The lowerCamelCase Swift property name for a Kafka field name (`GroupInstanceId` →
    /// `groupInstanceID`, `ThrottleTimeMs` → `throttleTimeMs`).
    public static func propertyName(_ kafkaName: String) -> String {
        let parts = words(kafkaName)
        guard let first = parts.first else { return kafkaName }
        return first.lowercased() + parts.dropFirst().map { acronyms[$0] ?? $0 }.joined()
    }

    /// The UpperCamelCase Swift type name for a Kafka struct name (`SnapshotId` → `SnapshotID`).
    public static func typeName(_ kafkaName: String) -> String {
        words(kafkaName).map { word in
            if let acronym = acronyms[word] { return acronym }
            return word.prefix(1).uppercased() + word.dropFirst()
        }.joined()
    }

    /// The `KafkaAPIKey` case name for an API name (`ApiVersions` → `apiVersions`).
    public static func caseName(_ apiName: String) -> String {
        propertyName(apiName)
    }

    /// The lowerCamelCase Swift name for an upper snake case error name
    /// (`UNKNOWN_MEMBER_ID` → `unknownMemberID`).
    public static func errorName(_ snakeName: String) -> String {
        let parts = snakeName.split(separator: "_").map { $0.prefix(1) + $0.dropFirst().lowercased() }
        return propertyName(parts.joined())
    }
}
