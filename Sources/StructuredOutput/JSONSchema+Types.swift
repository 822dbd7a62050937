extension JSONSchemaCompiler {
    // MARK: - Numbers

    private func number(_ v: JSONValue?, _ key: String, path: String) throws -> Double? {
        guard let v else { return nil }
        guard case .number(let n) = v, let d = Double(n) else {
            throw StructuredOutputError.unsupported(key, "must be a number at \(path)")
        }
        return d
    }

    private func count(_ s: SchemaObject, _ key: String, path: String) throws -> Int? {
        guard let d = try number(s[key], key, path: path) else { return nil }
        guard d >= 0, d.rounded() == d, d <= Double(GrammarBuilder.maxRepeat) else {
            throw StructuredOutputError.unsupported(key, "value \(d) at \(path) (a whole number up to \(GrammarBuilder.maxRepeat))")
        }
        return Int(d)
    }

    /// The integer bounds of `s` (inclusive), draft-4 boolean `exclusiveMinimum` too.
    private func integerBounds(_ s: SchemaObject, path: String) throws -> (Int64?, Int64?) {
        var lo: Double? = nil, hi: Double? = nil
        var exLoFlag = false, exHiFlag = false
        if case .bool(let b) = s["exclusiveMinimum"] ?? .null { exLoFlag = b }
        if case .bool(let b) = s["exclusiveMaximum"] ?? .null { exHiFlag = b }
        if let m = try number(s["minimum"], "minimum", path: path) {
            lo = exLoFlag ? (m.rounded(.down) + 1) : m.rounded(.up)
        }
        if let m = try number(s["maximum"], "maximum", path: path) {
            hi = exHiFlag ? (m.rounded(.up) - 1) : m.rounded(.down)
        }
        if case .number = s["exclusiveMinimum"] ?? .null, let m = try number(s["exclusiveMinimum"], "exclusiveMinimum", path: path) {
            let v = m.rounded(.down) + 1
            lo = max(lo ?? v, v)
        }
        if case .number = s["exclusiveMaximum"] ?? .null, let m = try number(s["exclusiveMaximum"], "exclusiveMaximum", path: path) {
            let v = m.rounded(.up) - 1
            hi = min(hi ?? v, v)
        }
        let limit = 9.0e18
        for (k, v) in [("minimum", lo), ("maximum", hi)] {
            if let v, abs(v) > limit {
                throw StructuredOutputError.unsupported(k, "bound \(v) beyond ±9e18 at \(path)")
            }
        }
        return (lo.map { Int64($0) }, hi.map { Int64($0) })
    }

    func integerExpr(_ s: SchemaObject, path: String) throws -> GExpr {
        if let m = try number(s["multipleOf"], "multipleOf", path: path), m != 1 {
            throw StructuredOutputError.unsupported("multipleOf", "other than 1 at \(path)")
        }
        let (lo, hi) = try integerBounds(s, path: path)
        if lo == nil && hi == nil { return .ref("integer") }
        return try IntegerRange.expr(min: lo, max: hi)
    }

    func numberExpr(_ s: SchemaObject, path: String) throws -> GExpr {
        if s["multipleOf"] != nil {
            throw StructuredOutputError.unsupported("multipleOf", "on numbers (only on integers, as 1) at \(path)")
        }
        let bounds = JSONSchemaCompiler.numberKeys.subtracting(["multipleOf"]).filter { s[$0] != nil }
        if bounds.isEmpty { return .ref("number") }
        if bounds == ["minimum"], case .number(let m)? = s["minimum"], Double(m) == 0 {
            return .ref("nonnegative-number")  // exponents allowed: every such number is ≥ 0
        }
        // Whole-number bounds only; draft-4 boolean exclusive flags too.
        var lo: Int64? = nil, hi: Int64? = nil
        var exLo = false, exHi = false
        func whole(_ key: String) throws -> Int64? {
            guard let v = s[key], case .number = v else { return nil }
            guard let d = try number(v, key, path: path), d.rounded() == d, abs(d) <= 9.0e18 else {
                throw StructuredOutputError.unsupported(key, "with a fractional or huge bound on numbers (whole-number bounds are enforced) at \(path)")
            }
            return Int64(d)
        }
        if let m = try whole("minimum") { lo = m }
        if let m = try whole("maximum") { hi = m }
        if case .bool(let b) = s["exclusiveMinimum"] ?? .null { exLo = b && lo != nil }
        if case .bool(let b) = s["exclusiveMaximum"] ?? .null { exHi = b && hi != nil }
        if let m = try whole("exclusiveMinimum") {
            if lo == nil || m >= lo ?? m { lo = m; exLo = true }
        }
        if let m = try whole("exclusiveMaximum") {
            if hi == nil || m <= hi ?? m { hi = m; exHi = true }
        }
        if let l = lo, let h = hi, l > h || (l == h && (exLo || exHi)) {
            throw StructuredOutputError(.unsatisfiable, "number range at \(path) is empty")
        }
        return try NumberRange.expr(min: lo, exclusiveMin: exLo, max: hi, exclusiveMax: exHi)
    }

    // MARK: - Strings

    mutating func stringExpr(_ s: SchemaObject, path: String) throws -> GExpr {
        let minL = try count(s, "minLength", path: path) ?? 0
        let maxL = try count(s, "maxLength", path: path)
        if let maxL, maxL < minL { throw StructuredOutputError(.unsatisfiable, "maxLength < minLength at \(path)") }
        let quote = GExpr.text("\"")
        if let f = s["format"] {
            guard case .string(let name) = f else { throw StructuredOutputError.unsupported("format", "must be a string at \(path)") }
            guard let p = JSONSchemaFormats.patterns[name] else {
                throw StructuredOutputError.unsupported("format", "'\(name)' at \(path)")
            }
            if s["pattern"] != nil { throw StructuredOutputError.unsupported("pattern", "together with format at \(path)") }
            let parsed = try RegexParser.parse(p)
            try checkLengthsImplied(parsed.branches.map(\.node), minL, maxL, by: "format '\(name)'", path: path)
            return .sequence([quote, parsed.expr(json: true), quote])
        }
        if let p = s["pattern"] {
            guard case .string(let pattern) = p else { throw StructuredOutputError.unsupported("pattern", "must be a string at \(path)") }
            let parsed: ParsedRegex
            do {
                parsed = try RegexParser.parse(pattern)
            } catch let e as StructuredOutputError {
                throw StructuredOutputError(e.kind, "pattern at \(path): \(e.message)")
            }
            if minL > 0 || maxL != nil {
                // Only when the anchored pattern's own lengths already meet the bounds.
                guard parsed.anchoredLengthRange != nil else {
                    throw StructuredOutputError.unsupported(minL > 0 ? "minLength" : "maxLength",
                                                            "together with an unanchored pattern at \(path)")
                }
                try checkLengthsImplied(parsed.branches.map(\.node), minL, maxL, by: "pattern", path: path)
            }
            return .sequence([quote, parsed.searchExpr(json: true), quote])
        }
        if minL == 0 && maxL == nil { return .ref("string") }
        return .sequence([quote, .rep(.ref("char"), min: minL, max: maxL), quote])
    }

    /// Throws unless every string matching one of `branches` has between `minL` and `maxL`
    /// characters (then the length keywords are implied and need no enforcing).
    private func checkLengthsImplied(_ branches: [RegexNode], _ minL: Int, _ maxL: Int?, by what: String, path: String) throws {
        if minL == 0 && maxL == nil { return }
        let r = RegexNode.alt(branches).lengthRange
        if r.min < minL {
            throw StructuredOutputError.unsupported("minLength", "together with \(what) that allows shorter strings at \(path)")
        }
        if let maxL, (r.max.map { $0 > maxL } ?? true) {
            throw StructuredOutputError.unsupported("maxLength", "together with \(what) that allows longer strings at \(path)")
        }
    }

    // MARK: - Arrays

    mutating func arrayExpr(_ s: SchemaObject, path: String) throws -> GExpr {
        for k in ["contains", "minContains", "maxContains", "unevaluatedItems"] where s[k] != nil {
            throw StructuredOutputError.unsupported(k, "at \(path)")
        }
        if case .bool(true) = s["uniqueItems"] ?? .null {
            throw StructuredOutputError.unsupported("uniqueItems", "at \(path)")
        }
        let minItems = try count(s, "minItems", path: path) ?? 0
        let maxItems = try count(s, "maxItems", path: path)
        if let maxItems, maxItems < minItems { throw StructuredOutputError(.unsatisfiable, "maxItems < minItems at \(path)") }
        var prefix: [JSONValue] = []
        var rest: JSONValue? = .bool(true)
        if case .array(let p) = s["prefixItems"] ?? .null {
            prefix = p
            rest = s["items"] ?? .bool(true)
        } else if case .array(let p) = s["items"] ?? .null {
            prefix = p
            rest = s["additionalItems"] ?? .bool(true)
        } else if let i = s["items"] {
            rest = i
        }
        if case .bool(false) = rest ?? .null { rest = nil }
        // Element expressions (each a rule, so it is lowered once).
        var prefixNames: [String] = []
        for (i, p) in prefix.enumerated() {
            if let maxItems, i >= maxItems { break }
            let name = newName("item")
            rules.append((name, try schema(p, path: "\(path)/prefixItems/\(i)")))
            prefixNames.append(name)
        }
        var restName: String? = nil
        if let rest {
            if case .bool(true) = rest { restName = "value" } else {
                let name = newName("item")
                rules.append((name, try schema(rest, path: "\(path)/items")))
                restName = name
            }
        }
        let k = prefixNames.count
        let ws = GExpr.ref("ws")
        let comma = GExpr.sequence([.text(","), ws])
        func item(_ name: String) -> GExpr { .sequence([.ref(name), ws]) }
        // The items after the prefix.
        var tail: GExpr
        let rMin = max(minItems - k, 0)
        let rMax = maxItems.map { max($0 - k, 0) }
        if let restName, rMax.map({ $0 > 0 }) ?? true {
            if k == 0 {
                let more = GExpr.rep(.sequence([comma, item(restName)]), min: max(rMin - 1, 0), max: rMax.map { $0 - 1 })
                let body = GExpr.sequence([item(restName), more])
                tail = rMin == 0 ? .optional(body) : body
            } else {
                tail = .rep(.sequence([comma, item(restName)]), min: rMin, max: rMax)
            }
        } else {
            if rMin > 0 { throw StructuredOutputError(.unsatisfiable, "minItems \(minItems) cannot be met at \(path)") }
            tail = .empty
        }
        // The prefix, innermost first: item i is optional once minItems is met.
        for i in stride(from: k - 1, through: 0, by: -1) {
            let sep: GExpr = i == 0 ? .empty : comma
            let body = GExpr.sequence([sep, item(prefixNames[i]), tail])
            tail = i >= minItems ? .optional(body) : body
        }
        return .sequence([.text("["), ws, tail, .text("]")])
    }

    // MARK: - Objects

    mutating func objectExpr(_ s: SchemaObject, path: String) throws -> GExpr {
        for k in ["patternProperties", "propertyNames", "dependentRequired", "dependentSchemas", "dependencies",
                  "unevaluatedProperties", "maxProperties"] where s[k] != nil {
            throw StructuredOutputError.unsupported(k, "at \(path)")
        }
        if let m = try count(s, "minProperties", path: path), m > 0 {
            throw StructuredOutputError.unsupported("minProperties", "at \(path)")
        }
        var props: [(String, JSONValue)] = []
        if let p = s["properties"] {
            guard case .object(let m) = p else { throw StructuredOutputError.unsupported("properties", "must be an object at \(path)") }
            props = m
        }
        var required = Set<String>()
        if let r = s["required"] {
            guard case .array(let list) = r else { throw StructuredOutputError.unsupported("required", "must be an array at \(path)") }
            for x in list {
                guard case .string(let name) = x else { throw StructuredOutputError.unsupported("required", "entries must be strings at \(path)") }
                required.insert(name)
                if !props.contains(where: { $0.0 == name }) {
                    let schema: JSONValue = s["additionalProperties"] ?? .bool(true)
                    if case .bool(false) = schema {
                        throw StructuredOutputError(.unsatisfiable, "required property '\(name)' is not allowed at \(path)")
                    }
                    props.append((name, schema))
                }
            }
        }
        // Additional properties: allowed by default only when no property is declared.
        var extra: JSONValue? = props.isEmpty ? .bool(true) : nil
        if let a = s["additionalProperties"] {
            if case .bool(false) = a { extra = nil } else { extra = a }
        }
        if props.isEmpty, case .bool(true) = extra ?? .null { return .ref("object") }

        let id = newName("obj")
        let ws = GExpr.ref("ws")
        let comma = GExpr.sequence([.text(","), ws])
        var kvNames: [String] = []
        for (i, (name, schema)) in props.enumerated() {
            let value = try self.schema(schema, path: "\(path)/properties/\(name)")
            let kv = "\(id)_kv\(i)"
            rules.append((kv, .sequence([.text(JSONValue.quote(name)), ws, .text(":"), ws, value, ws])))
            kvNames.append(kv)
        }
        let n = props.count
        // Rules first_i (nothing written yet) and rest_i (something written: a comma comes first).
        if let extra {
            let valueExpr = try self.schema(extra, path: "\(path)/additionalProperties")
            let key = try JSONSchemaCompiler.keyExcluding(props.map(\.0), path: path)
            let kv = "\(id)_kvx"
            rules.append((kv, .sequence([key, ws, .text(":"), ws, valueExpr, ws])))
            let more = GExpr.rep(.sequence([comma, .ref(kv)]), min: 0, max: nil)
            rules.append(("\(id)_f\(n)", .optional(.sequence([.ref(kv), more]))))
            rules.append(("\(id)_r\(n)", more))
        } else {
            rules.append(("\(id)_f\(n)", .empty))
            rules.append(("\(id)_r\(n)", .empty))
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            let kv = GExpr.ref(kvNames[i])
            let first = GExpr.sequence([kv, .ref("\(id)_r\(i + 1)")])
            let rest = GExpr.sequence([comma, kv, .ref("\(id)_r\(i + 1)")])
            if required.contains(props[i].0) {
                rules.append(("\(id)_f\(i)", first))
                rules.append(("\(id)_r\(i)", rest))
            } else {
                rules.append(("\(id)_f\(i)", .choice([first, .ref("\(id)_f\(i + 1)")])))
                rules.append(("\(id)_r\(i)", .choice([rest, .ref("\(id)_r\(i + 1)")])))
            }
        }
        return .sequence([.text("{"), ws, .ref("\(id)_f0"), .text("}")])
    }

    /// A JSON string key that is none of `names` (so an additional property never repeats a
    /// declared one). Such keys use no escapes.
    static func keyExcluding(_ names: [String], path: String) throws -> GExpr {
        let quote = GExpr.text("\"")
        let keyChar = CharClass.any.subtracting(CharClass([0...0x1F, 0x22...0x22, 0x5C...0x5C]))
        if names.isEmpty { return .sequence([quote, .rep(keyChar.utf8Expr, min: 0, max: nil), quote]) }
        var words: [[UInt8]] = []
        for n in names {
            let bytes = Array(n.utf8)
            if bytes.contains(where: { $0 >= 0x80 || $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                throw StructuredOutputError.unsupported("additionalProperties",
                                                        "beside a property name with non-ASCII or escaped characters at \(path)")
            }
            words.append(bytes)
        }
        let free = GExpr.rep(keyChar.utf8Expr, min: 0, max: nil)
        func node(_ prefix: [UInt8], _ depth: Int) -> GExpr {
            let here = words.filter { $0.count > depth && Array($0.prefix(depth)) == prefix }
            let isWord = words.contains { $0 == prefix }
            var alts: [GExpr] = []
            if !isWord { alts.append(.empty) }
            var childBytes = ByteSet()
            var children: [UInt8] = []
            for w in here where !childBytes.contains(w[depth]) {
                childBytes.insert(w[depth])
                children.append(w[depth])
            }
            for c in children { alts.append(.sequence([.literal([c]), node(prefix + [c], depth + 1)])) }
            // Any other character, then anything.
            let other = keyChar.subtracting(CharClass(children.map { UInt32($0)...UInt32($0) }))
            alts.append(.sequence([other.utf8Expr, free]))
            return .choice(alts)
        }
        return .sequence([quote, node([], 0), quote])
    }
}
