// The one error of bad user input, shared by the model core and every front end.

/// Bad user input: a file, the field inside it, and what is wrong. Exit status 2.
/// `field` is a JSON-style path into the model ("layers[2].kernel[0][3]"), whatever the front end.
public struct InputError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let field: String
    public let message: String
    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }
    public var description: String {
        field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)"
    }
}
