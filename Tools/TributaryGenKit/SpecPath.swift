/// Builds the key paths used in ``SpecError/key``.
public enum SpecPath {
    /// The path of `key` inside the object at `parent` (`errors[3]` + `match` → `errors[3].match`).
    public static func child(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : "\(parent).\(key)"
    }

    /// The path of element `index` of the array at `parent` (`errors` + 3 → `errors[3]`).
    public static func element(_ parent: String, _ index: Int) -> String {
        "\(parent)[\(index)]"
    }
}
