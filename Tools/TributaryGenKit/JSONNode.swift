/// A JSON value read from a spec file, with the line it starts on.
///
/// The generator reads specs with its own small parser instead of `JSONSerialization` so that
/// object keys keep their order, duplicate keys are rejected, booleans and numbers stay
/// distinct, and every error can name a line.
struct JSONNode: Sendable {
    enum Value: Sendable {
        case object([(key: String, node: JSONNode)])
        case array([JSONNode])
        case string(String)
        case integer(Int)
        case double(Double)
        case bool(Bool)
        case null
    }

    var value: Value
    var line: Int

    /// A short name of the value's JSON type, for error messages.
    var typeName: String {
        switch value {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .integer: "an integer"
        case .double: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}
