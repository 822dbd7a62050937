/// Attribute, item and slice access as jinja2's sandbox does them.
enum Attributes {
    static let dictMethods: Set<String> = ["get", "items", "keys", "values", "copy"]
    static let unsafeDictMethods: Set<String> = ["update", "pop", "popitem", "setdefault", "clear"]
    static let unsafeListMethods: Set<String> = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"]

    private static func unsafe(_ name: String, _ value: Value) -> Value {
        .undefined("access to attribute '\(name)' of '\(value.typeName)' object is unsafe.")
    }

    private static func missingAttribute(_ value: Value, _ name: String) -> Value {
        .undefined("\(PyFormat.stringRepr(value.objectTypeRepr)) has no attribute \(PyFormat.stringRepr(name))")
    }

    /// `value.name`.
    static func get(_ value: Value, _ name: String, line: Int) throws -> Value {
        try Interpreter.defined(value, line: line)
        if name.hasPrefix("_") { return unsafe(name, value) }
        switch value {
        case .dict(let d):
            if dictMethods.contains(name) { return Methods.dict(d, name) }
            if unsafeDictMethods.contains(name) { return unsafe(name, value) }
            return d[name] ?? missingAttribute(value, name)
        case .namespace(let n):
            return n.attributes[name] ?? missingAttribute(value, name)
        case .loop(let info):
            return info.attribute(name) ?? missingAttribute(value, name)
        case .string, .markup:
            return Methods.string(value, name) ?? missingAttribute(value, name)
        case .array(let items), .tuple(let items):
            if unsafeListMethods.contains(name), case .array = value { return unsafe(name, value) }
            return Methods.list(items, name) ?? missingAttribute(value, name)
        default:
            return missingAttribute(value, name)
        }
    }

    /// `value[key]`.
    static func item(_ value: Value, _ key: Value, line: Int) throws -> Value {
        try Interpreter.defined(value, line: line)
        switch value {
        case .dict(let d):
            if let k = DictKey(key), let v = d[k] { return v }
        case .namespace(let n):
            if let k = key.stringValue, let v = n.attributes[k] { return v }
        case .array(let items), .tuple(let items):
            if let i = key.intValue {
                let index = i < 0 ? i + items.count : i
                if index >= 0 && index < items.count { return items[index] }
            }
        case .string(let s), .markup(let s):
            if let i = key.intValue {
                let scalars = Array(s.unicodeScalars)
                let index = i < 0 ? i + scalars.count : i
                if index >= 0 && index < scalars.count {
                    let c = String(scalars[index])
                    if case .markup = value { return .markup(c) }
                    return .string(c)
                }
            }
        default: break
        }
        if let name = key.stringValue {
            if case .dict = value, !dictMethods.contains(name), !unsafeDictMethods.contains(name) {
                return missingAttribute(value, name)
            }
            return try get(value, name, line: line)
        }
        return .undefined("\(value.objectTypeRepr) has no element \(key.repr)")
    }

    /// Python's `slice.indices`.
    static func sliceIndices(count: Int, start: Value?, stop: Value?, step: Value?, line: Int) throws -> [Int] {
        func integer(_ v: Value?) throws -> Int? {
            guard let v else { return nil }
            if case .none = v { return nil }
            guard let i = v.intValue else {
                throw Interpreter.typeError("slice indices must be integers or None or have an __index__ method", line: line)
            }
            return i
        }
        let stepValue = try integer(step) ?? 1
        guard stepValue != 0 else { throw ChatTemplateError(message: "slice step cannot be zero", line: line, kind: "ValueError") }
        var lower: Int, upper: Int
        if stepValue > 0 {
            lower = 0
            upper = count
        } else {
            lower = -1
            upper = count - 1
        }
        func clamp(_ v: Int?, _ fallback: Int) -> Int {
            guard var i = v else { return fallback }
            if i < 0 {
                i += count
                return max(i, lower)
            }
            return min(i, upper)
        }
        let s = clamp(try integer(start), stepValue > 0 ? lower : upper)
        let e = clamp(try integer(stop), stepValue > 0 ? upper : lower)
        var result: [Int] = []
        var i = s
        if stepValue > 0 {
            while i < e { result.append(i); i += stepValue }
        } else {
            while i > e { result.append(i); i += stepValue }
        }
        return result
    }

    /// `value[start:stop:step]`.
    static func slice(_ value: Value, start: Value?, stop: Value?, step: Value?, line: Int) throws -> Value {
        switch value {
        case .array(let items), .tuple(let items):
            let picked = try sliceIndices(count: items.count, start: start, stop: stop, step: step, line: line).map { items[$0] }
            if case .tuple = value { return .tuple(picked) }
            return .array(picked)
        case .string(let s), .markup(let s):
            let scalars = Array(s.unicodeScalars)
            var view = String.UnicodeScalarView()
            for i in try sliceIndices(count: scalars.count, start: start, stop: stop, step: step, line: line) { view.append(scalars[i]) }
            if case .markup = value { return .markup(String(view)) }
            return .string(String(view))
        default:
            throw Interpreter.typeError("'\(value.typeName)' object is not subscriptable", line: line)
        }
    }
}
