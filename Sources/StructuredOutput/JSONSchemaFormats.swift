/// The string `format`s we enforce, as regular expressions over the string's content (each a
/// subset of what the format allows, so every output validates).
enum JSONSchemaFormats {
    static let date = "\\d{4}-((0[1-9]|1[0-2])-(0[1-9]|1\\d|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31|02-29)"
    static let time = "([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)"
    static let octet = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
    static let label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"

    static let patterns: [String: String] = [
        "date": date,
        "time": time,
        "date-time": date + "T" + time,
        "uuid": "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "email": "[A-Za-z0-9._%+-]{1,64}@" + label + "(\\." + label + ")+",
        "ipv4": "(" + octet + "\\.){3}" + octet,
        "ipv6": "([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}",
        "hostname": label + "(\\." + label + ")*",
        "uri": "[a-zA-Z][a-zA-Z0-9+.-]*:[A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=%]+",
    ]
}
