enum GBNFParser { static func parse(_ t: String) throws -> FlatGrammar { throw StructuredOutputError(.unsatisfiable, "") } }
enum LarkParser { static func looksLikeLark(_ t: String) -> Bool { false }; static func parse(_ t: String) throws -> FlatGrammar { throw StructuredOutputError(.unsatisfiable, "") } }
