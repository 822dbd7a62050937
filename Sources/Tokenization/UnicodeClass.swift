/// Character classes the pre-tokenizers test, with the same meaning as llama.cpp's codepoint flags:
/// general-category groups (\p{L}, \p{N}, \p{P}, \p{S}, \p{M}, \p{Z}, \p{C}) plus a fixed
/// whitespace set (the Unicode White_Space characters).
struct CodepointClass: OptionSet, Sendable {
    let rawValue: UInt16

    static let undefined = CodepointClass(rawValue: 1 << 0)
    static let number = CodepointClass(rawValue: 1 << 1)
    static let letter = CodepointClass(rawValue: 1 << 2)
    static let separator = CodepointClass(rawValue: 1 << 3)
    static let mark = CodepointClass(rawValue: 1 << 4)
    static let punctuation = CodepointClass(rawValue: 1 << 5)
    static let symbol = CodepointClass(rawValue: 1 << 6)
    static let control = CodepointClass(rawValue: 1 << 7)
    static let whitespace = CodepointClass(rawValue: 1 << 8)

    /// The class of codepoint `c`.
    @inline(__always)
    static func of(_ c: UInt32) -> CodepointClass {
        if c < 128 { return asciiTable[Int(c)] }
        return nonASCII(c)
    }

    private static let asciiTable: [CodepointClass] = (0..<128).map { compute(UInt32($0)) }

    private static func nonASCII(_ c: UInt32) -> CodepointClass {
        compute(c)
    }

    static func isWhitespace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    private static func compute(_ c: UInt32) -> CodepointClass {
        guard let scalar = Unicode.Scalar(c) else {
            // Surrogate code units cannot appear in a Swift string; treat them as control.
            return .control
        }
        var result: CodepointClass
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result = .letter
        case .nonspacingMark, .spacingMark, .enclosingMark:
            result = .mark
        case .decimalNumber, .letterNumber, .otherNumber:
            result = .number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            result = .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            result = .symbol
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            result = .separator
        case .control, .format, .surrogate, .privateUse:
            result = .control
        case .unassigned:
            result = .undefined
        @unknown default:
            result = .undefined
        }
        if isWhitespace(c) { result.insert(.whitespace) }
        return result
    }
}
