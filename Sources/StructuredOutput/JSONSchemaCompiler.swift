import Foundation

/// Compiles a JSON Schema into grammar rules for its JSON texts.
///
/// Enforced: `type` (a name or a list; absent = any type, each branch with its keywords),
/// `properties`, `required`, `additionalProperties` (bool or schema), `items` / `prefixItems`
/// (and draft-4 array `items` with `additionalItems`), `minItems`, `maxItems`, `enum`, `const`,
/// `anyOf`, `oneOf` (as anyOf: exclusivity is not enforced), `allOf` (merged), `$ref` into the
/// schema (`#`, `#/$defs/…`, `#/definitions/…`, any JSON pointer; recursion allowed), `nullable`,
/// `minLength` / `maxLength`, `pattern` (a search, as JSON Schema defines it), `format`
/// (date-time, date, time, uuid, email, ipv4, ipv6, hostname, uri), integer `minimum` /
/// `maximum` / `exclusiveMinimum` / `exclusiveMaximum` (draft-4 boolean forms too), the same with
/// whole-number bounds on numbers, `multipleOf: 1` on integers. Annotations (`title`,
/// `description`, `default`, `examples`, `$schema`, `x-…` …) are ignored.
///
/// Refused with ``StructuredOutputError`` naming the keyword: `not`, `if`/`then`/`else`,
/// `patternProperties`, `propertyNames`, `minProperties` (above 0), `maxProperties`,
/// `dependentRequired`, `dependentSchemas`, `dependencies`, `unevaluatedProperties`,
/// `unevaluatedItems`, `contains`, `uniqueItems: true`, `multipleOf` (other than 1 on integers),
/// fractional number bounds, other formats, `pattern` or `format` with length bounds they do not
/// imply, `enum`/`const` beside other validation keywords, remote `$ref`s, and unknown keywords.
///
/// Output policy: object properties in declared order (required ones always, optional ones
/// possibly left out); no properties beyond `properties` unless `additionalProperties` allows
/// them (or the object declares no properties at all); integers without fraction or exponent;
/// bounded numbers without exponent; between tokens at most one whitespace run — a space, or a
/// newline and up to 20 spaces/tabs (rule `ws`).
struct JSONSchemaCompiler {
    let root: JSONValue
    var rules: [(String, GExpr)] = []
    private var refRules: [String: String] = [:]
    private var counter = 0
    private var depth = 0
    /// Subschemas compiled so far: merged branches are compiled inline, so a small schema could
    /// otherwise ask for exponential work.
    private var work = 0
    static let maxWork = 20_000

    /// Keywords that only annotate (nothing to enforce).
    static let annotations: Set<String> = [
        "title", "description", "$schema", "$id", "id", "$comment", "examples", "example", "default",
        "deprecated", "readOnly", "writeOnly", "$anchor", "$dynamicAnchor", "contentMediaType",
        "contentEncoding", "discriminator", "$defs", "definitions", "strict", "$vocabulary", "xml",
        "externalDocs",
    ]

    static let stringKeys: Set<String> = ["minLength", "maxLength", "pattern", "format"]
    static let numberKeys: Set<String> = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]
    static let arrayKeys: Set<String> = [
        "items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "additionalItems",
        "minContains", "maxContains", "unevaluatedItems",
    ]
    static let objectKeys: Set<String> = [
        "properties", "required", "additionalProperties", "patternProperties", "minProperties",
        "maxProperties", "propertyNames", "dependentRequired", "dependentSchemas", "dependencies",
        "unevaluatedProperties",
    ]
    static let generalKeys: Set<String> = [
        "type", "enum", "const", "$ref", "allOf", "anyOf", "oneOf", "nullable",
    ]

    static func compile(schemaText: String) throws -> FlatGrammar {
        let v: JSONValue
        do {
            v = try JSONValue.parse(schemaText)
        } catch let e as StructuredOutputError {
            throw StructuredOutputError(e.kind, "JSON Schema is not valid JSON: \(e.message)")
        }
        var c = JSONSchemaCompiler(root: v)
        let e = try c.schema(v, path: "#")
        c.rules.append(("root", e))
        c.rules.append(contentsOf: JSONSchemaCompiler.baseRules)
        return try GrammarBuilder.build(rules: c.rules, start: "root")
    }

    init(root: JSONValue) { self.root = root }

    // MARK: - Base rules

    static let baseRules: [(String, GExpr)] = {
        let digit = GExpr.bytes(ByteSet(0x30...0x39))
        let digit19 = GExpr.bytes(ByteSet(0x31...0x39))
        var hex = ByteSet(0x30...0x39)
        hex.insert(0x41...0x46)
        hex.insert(0x61...0x66)
        var escapable = ByteSet()
        for c in Array("\"\\/bfnrt".utf8) { escapable.insert(c) }
        let rawChar = CharClass.any.subtracting(CharClass([0...0x1F, 0x22...0x22, 0x5C...0x5C])).utf8Expr
        // Two plain alternatives (no nested choice), so `char` stays a byte-only rule that the
        // builder copies into the string rules.
        let escape = GExpr.choice([
            .sequence([.text("\\"), .bytes(escapable)]),
            .sequence([.text("\\u"), .rep(.bytes(hex), min: 4, max: 4)]),
        ])
        let intPart = GExpr.choice([.text("0"), .sequence([digit19, .rep(digit, min: 0, max: nil)])])
        let frac = GExpr.optional(.sequence([.text("."), .rep(digit, min: 1, max: nil)]))
        var sign = ByteSet(0x2B)
        sign.insert(0x2D)
        var eE = ByteSet(0x45)
        eE.insert(0x65)
        let exp = GExpr.optional(.sequence([.bytes(eE), .optional(.bytes(sign)), .rep(digit, min: 1, max: nil)]))
        var spaceTab = ByteSet(0x20)
        spaceTab.insert(0x09)
        let ws = GExpr.optional(.choice([.text(" "), .sequence([.text("\n"), .rep(.bytes(spaceTab), min: 0, max: 20)])]))
        let ref = GExpr.ref
        let member = GExpr.sequence([ref("string"), ref("ws"), .text(":"), ref("ws"), ref("value"), ref("ws")])
        let element = GExpr.sequence([ref("value"), ref("ws")])
        return [
            ("ws", ws),
            ("char", .choice([rawChar, escape])),
            ("string", .sequence([.text("\""), .rep(ref("char"), min: 0, max: nil), .text("\"")])),
            ("number", .sequence([.optional(.text("-")), intPart, frac, exp])),
            ("nonnegative-number", .sequence([intPart, frac, exp])),
            ("integer", .sequence([.optional(.text("-")), intPart])),
            ("boolean", .choice([.text("true"), .text("false")])),
            ("null", .text("null")),
            ("value", .choice([ref("object"), ref("array"), ref("string"), ref("number"), ref("boolean"), ref("null")])),
            ("object", .sequence([.text("{"), ref("ws"), .optional(.sequence([
                member, .rep(.sequence([.text(","), ref("ws"), member]), min: 0, max: nil),
            ])), .text("}")])),
            ("array", .sequence([.text("["), ref("ws"), .optional(.sequence([
                element, .rep(.sequence([.text(","), ref("ws"), element]), min: 0, max: nil),
            ])), .text("]")])),
        ]
    }()

    mutating func newName(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    // MARK: - Schemas

    mutating func schema(_ v: JSONValue, path: String) throws -> GExpr {
        depth += 1
        defer { depth -= 1 }
        work += 1
        if work > JSONSchemaCompiler.maxWork {
            throw StructuredOutputError(.unsupportedKeyword("complexity"),
                                        "JSON Schema expands to more than \(JSONSchemaCompiler.maxWork) subschemas (combinators merged into references); simplify it")
        }
        if depth > 64 {
            throw StructuredOutputError(.unsupportedKeyword("nesting"), "JSON Schema nests deeper than 64 levels at \(path)")
        }
        switch v {
        case .bool(true): return .ref("value")
        case .bool(false): throw StructuredOutputError(.unsatisfiable, "schema at \(path) is false: no value can match")
        case .object(let members): return try objectSchema(members, path: path)
        default:
            throw StructuredOutputError(.syntax(offset: 0), "schema at \(path) must be an object or a boolean")
        }
    }

    private static func isAnnotation(_ k: String) -> Bool {
        annotations.contains(k) || k.hasPrefix("x-")
    }

    private mutating func objectSchema(_ m: [(String, JSONValue)], path: String) throws -> GExpr {
        let known = JSONSchemaCompiler.generalKeys.union(JSONSchemaCompiler.stringKeys)
            .union(JSONSchemaCompiler.numberKeys).union(JSONSchemaCompiler.arrayKeys)
            .union(JSONSchemaCompiler.objectKeys)
        for (k, _) in m where !known.contains(k) && !JSONSchemaCompiler.isAnnotation(k) {
            throw StructuredOutputError.unsupported(k, "at \(path)")
        }
        let s = SchemaObject(m)
        let validation = m.filter { !JSONSchemaCompiler.isAnnotation($0.0) }

        if let r = s["$ref"] {
            guard case .string(let ref) = r else { throw StructuredOutputError.unsupported("$ref", "must be a string at \(path)") }
            let rest = validation.filter { $0.0 != "$ref" }
            if rest.isEmpty { return try refExpr(ref) }
            let merged = try merge(rest, [.object([("$ref", r)])], path: path)
            return try schema(.object(merged), path: path)
        }
        if let all = s["allOf"] {
            guard case .array(let items) = all else { throw StructuredOutputError.unsupported("allOf", "must be an array at \(path)") }
            let base = m.filter { $0.0 != "allOf" }
            return try schema(.object(try merge(base, items, path: path)), path: path)
        }
        for key in ["anyOf", "oneOf"] {
            if let any = s[key] {
                guard case .array(let items) = any, !items.isEmpty else {
                    throw StructuredOutputError.unsupported(key, "must be a non-empty array at \(path)")
                }
                let base = validation.filter { $0.0 != key }
                var alts: [GExpr] = []
                for (i, item) in items.enumerated() {
                    let branch: JSONValue = base.isEmpty ? item : .object(try merge(base, [item], path: path))
                    do {
                        alts.append(try schema(branch, path: "\(path)/\(key)/\(i)"))
                    } catch let e as StructuredOutputError where e.kind == .unsatisfiable {
                        continue  // an impossible branch adds nothing
                    }
                }
                if alts.isEmpty { throw StructuredOutputError(.unsatisfiable, "no branch of \(key) at \(path) can match") }
                return .choice(alts)
            }
        }
        if case .bool(true) = s["nullable"] ?? .null {
            let rest = m.filter { $0.0 != "nullable" }
            return .choice([.text("null"), try schema(.object(rest), path: path)])
        }

        let types = try typeList(s["type"], path: path)
        if s["enum"] != nil || s["const"] != nil {
            return try enumExpr(s, types: types, validation: validation, path: path)
        }
        var alts: [GExpr] = []
        for t in types {
            switch t {
            case "null": alts.append(.ref("null"))
            case "boolean": alts.append(.ref("boolean"))
            case "string": alts.append(try stringExpr(s, path: path))
            case "integer": alts.append(try integerExpr(s, path: path))
            case "number": alts.append(try numberExpr(s, path: path))
            case "array": alts.append(try arrayExpr(s, path: path))
            case "object": alts.append(try objectExpr(s, path: path))
            default: throw StructuredOutputError.unsupported("type", "unknown type '\(t)' at \(path)")
            }
        }
        return .choice(alts)
    }

    private func typeList(_ t: JSONValue?, path: String) throws -> [String] {
        var out: [String]
        switch t {
        case nil: out = ["object", "array", "string", "number", "boolean", "null"]
        case .string(let s)?: out = [s]
        case .array(let items)?:
            out = []
            for i in items {
                guard case .string(let s) = i else { throw StructuredOutputError.unsupported("type", "entries must be strings at \(path)") }
                if !out.contains(s) { out.append(s) }
            }
            if out.isEmpty { throw StructuredOutputError(.unsatisfiable, "empty type list at \(path)") }
        default: throw StructuredOutputError.unsupported("type", "must be a string or an array at \(path)")
        }
        // "number" includes the integers.
        if out.contains("number") && out.contains("integer") { out.removeAll { $0 == "integer" } }
        return out
    }

    // MARK: - $ref

    private mutating func refExpr(_ ref: String) throws -> GExpr {
        if let name = refRules[ref] { return .ref(name) }
        let target = try resolve(ref)
        let name = newName("ref")
        refRules[ref] = name
        let body = try schema(target, path: ref)
        rules.append((name, body))
        return .ref(name)
    }

    func resolve(_ ref: String) throws -> JSONValue {
        guard ref.hasPrefix("#") else {
            throw StructuredOutputError.unsupported("$ref", "remote reference '\(ref)' (only '#…' pointers into the schema)")
        }
        let pointer = ref.dropFirst()
        if pointer.isEmpty { return root }
        guard pointer.hasPrefix("/") else {
            throw StructuredOutputError.unsupported("$ref", "anchor reference '\(ref)'")
        }
        var cur = root
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = String(raw).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                .replacingOccurrences(of: "%25", with: "%")
            switch cur {
            case .object:
                guard let next = cur[token] else { throw StructuredOutputError(.invalidGrammar, "$ref '\(ref)' points to nothing") }
                cur = next
            case .array(let a):
                guard let i = Int(token), i >= 0, i < a.count else {
                    throw StructuredOutputError(.invalidGrammar, "$ref '\(ref)' points to nothing")
                }
                cur = a[i]
            default: throw StructuredOutputError(.invalidGrammar, "$ref '\(ref)' points to nothing")
            }
        }
        return cur
    }

    // MARK: - allOf

    /// `base` with every schema of `items` merged in (properties merged, `required` united, `type`
    /// intersected; other keywords must agree).
    private func merge(_ base: [(String, JSONValue)], _ items: [JSONValue], path: String) throws -> [(String, JSONValue)] {
        var parts: [[(String, JSONValue)]] = [base]
        for item in items {
            var members: [(String, JSONValue)]
            switch item {
            case .bool(true): continue
            case .bool(false): throw StructuredOutputError(.unsatisfiable, "allOf at \(path) contains false")
            case .object(let m): members = m
            default: throw StructuredOutputError.unsupported("allOf", "entries must be schemas at \(path)")
            }
            // Resolve a top-level $ref of the entry.
            var guardCount = 0
            while let r = SchemaObject(members)["$ref"], guardCount < 32 {
                guardCount += 1
                guard case .string(let ref) = r else { throw StructuredOutputError.unsupported("$ref", "must be a string") }
                guard case .object(let target) = try resolve(ref) else {
                    throw StructuredOutputError.unsupported("$ref", "to a non-object schema inside allOf at \(path)")
                }
                members = members.filter { $0.0 != "$ref" } + target
            }
            if SchemaObject(members)["$ref"] != nil {
                throw StructuredOutputError.unsupported("$ref", "reference cycle inside allOf at \(path)")
            }
            parts.append(members)
        }
        var out: [(String, JSONValue)] = []
        for members in parts {
            for (k, v) in members {
                if JSONSchemaCompiler.isAnnotation(k) || k == "additionalProperties" { continue }
                guard let idx = out.firstIndex(where: { $0.0 == k }) else {
                    out.append((k, v))
                    continue
                }
                let old = out[idx].1
                if old == v { continue }
                switch k {
                case "properties":
                    guard case .object(let a) = old, case .object(let b) = v else {
                        throw StructuredOutputError.unsupported("properties", "must be an object at \(path)")
                    }
                    var props = a
                    for (pk, pv) in b {
                        if let j = props.firstIndex(where: { $0.0 == pk }) {
                            props[j].1 = .object([("allOf", .array([props[j].1, pv]))])
                        } else {
                            props.append((pk, pv))
                        }
                    }
                    out[idx].1 = .object(props)
                case "required":
                    guard case .array(let a) = old, case .array(let b) = v else {
                        throw StructuredOutputError.unsupported("required", "must be an array at \(path)")
                    }
                    out[idx].1 = .array(a + b.filter { !a.contains($0) })
                case "type":
                    let a = try typeList(old, path: path), b = try typeList(v, path: path)
                    var both = a.filter { b.contains($0) || ($0 == "integer" && b.contains("number")) }
                    if a.contains("number") && b.contains("integer") { both.append("integer") }
                    if both.isEmpty { throw StructuredOutputError(.unsatisfiable, "allOf at \(path) has disjoint types") }
                    out[idx].1 = .array(both.map { .string($0) })
                case "allOf", "anyOf", "oneOf":
                    throw StructuredOutputError.unsupported(k, "nested inside allOf at \(path)")
                default:
                    throw StructuredOutputError.unsupported(k, "with different values in allOf at \(path)")
                }
            }
        }
        // additionalProperties applies to the keys its own schema does not declare.
        var props: [(String, JSONValue)] = []
        if case .object(let p)? = SchemaObject(out)["properties"] { props = p }
        var required = Set<String>()
        if case .array(let r)? = SchemaObject(out)["required"] {
            for x in r { if case .string(let n) = x { required.insert(n) } }
        }
        var additional: [JSONValue] = []
        for members in parts {
            let s = SchemaObject(members)
            guard let a = s["additionalProperties"] else { continue }
            if case .bool(true) = a { continue }
            var declared = Set<String>()
            if case .object(let p)? = s["properties"] { declared = Set(p.map(\.0)) }
            var kept: [(String, JSONValue)] = []
            for (k, v) in props {
                if declared.contains(k) { kept.append((k, v)); continue }
                if case .bool(false) = a {
                    if required.contains(k) {
                        throw StructuredOutputError(.unsatisfiable,
                                                    "required property '\(k)' is forbidden by additionalProperties in allOf at \(path)")
                    }
                    continue
                }
                kept.append((k, .object([("allOf", .array([v, a]))])))
            }
            props = kept
            additional.append(a)
        }
        if !additional.isEmpty {
            if let i = out.firstIndex(where: { $0.0 == "properties" }) { out[i].1 = .object(props) }
            else { out.append(("properties", .object(props))) }
            let combined: JSONValue = additional.contains(.bool(false)) ? .bool(false)
                : additional.count == 1 ? additional[0] : .object([("allOf", .array(additional))])
            out.append(("additionalProperties", combined))
        }
        return out
    }

    // MARK: - enum / const

    private func enumExpr(_ s: SchemaObject, types: [String], validation: [(String, JSONValue)], path: String) throws -> GExpr {
        let extra = validation.filter { !["type", "enum", "const"].contains($0.0) }
        if let (k, _) = extra.first {
            throw StructuredOutputError.unsupported(k, "together with enum/const at \(path)")
        }
        var values: [JSONValue] = []
        if let c = s["const"] { values = [c] }
        if let e = s["enum"] {
            guard case .array(let list) = e else { throw StructuredOutputError.unsupported("enum", "must be an array at \(path)") }
            values = s["const"] == nil ? list : values.filter { list.contains($0) }
        }
        values = values.filter { v in types.contains { JSONSchemaCompiler.value(v, hasType: $0) } }
        if values.isEmpty { throw StructuredOutputError(.unsatisfiable, "no enum/const value at \(path) has an allowed type") }
        return .choice(values.map(JSONSchemaCompiler.constExpr))
    }

    static func value(_ v: JSONValue, hasType t: String) -> Bool {
        switch (v, t) {
        case (.null, "null"), (.bool, "boolean"), (.string, "string"), (.array, "array"), (.object, "object"),
             (.number, "number"):
            return true
        case (.number(let n), "integer"):
            if !n.contains(".") && !n.contains("e") && !n.contains("E") { return true }
            return Double(n).map { $0.rounded() == $0 } ?? false
        default: return false
        }
    }

    /// The JSON texts of exactly `v` (any whitespace our policy allows inside).
    static func constExpr(_ v: JSONValue) -> GExpr {
        let ws = GExpr.ref("ws")
        switch v {
        case .array(let items):
            var parts: [GExpr] = [.text("["), ws]
            for (i, x) in items.enumerated() {
                if i > 0 { parts += [.text(","), ws] }
                parts += [constExpr(x), ws]
            }
            parts.append(.text("]"))
            return .sequence(parts)
        case .object(let members):
            var parts: [GExpr] = [.text("{"), ws]
            for (i, (k, x)) in members.enumerated() {
                if i > 0 { parts += [.text(","), ws] }
                parts += [.text(JSONValue.quote(k)), ws, .text(":"), ws, constExpr(x), ws]
            }
            parts.append(.text("}"))
            return .sequence(parts)
        default:
            return .text(v.serialized)
        }
    }
}

/// Keyword lookup over a schema object's members.
struct SchemaObject {
    let members: [(String, JSONValue)]

    init(_ m: [(String, JSONValue)]) { members = m }

    subscript(_ k: String) -> JSONValue? { members.last { $0.0 == k }?.1 }
}
