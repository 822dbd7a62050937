/// A `namespace()` object: the one mutable value templates have.
final class Namespace {
    var attributes: OrderedDict
    init(_ attributes: OrderedDict) { self.attributes = attributes }
}

/// A macro bound to the scope it was defined in.
final class MacroValue {
    let definition: MacroDefinition
    let frame: Frame
    init(definition: MacroDefinition, frame: Frame) {
        self.definition = definition
        self.frame = frame
    }
}

/// A Python iterator or view: a generator from `select`/`map`/… (used up by one pass, no
/// length, not JSON) or a dict view from `.items()`/`.keys()`/`.values()` (reusable, sized).
final class IteratorBox {
    let kind: String
    private var items: [Value]
    let isView: Bool
    private var consumed = false

    init(kind: String, items: [Value], isView: Bool = false) {
        self.kind = kind
        self.items = items
        self.isView = isView
    }

    /// The items; a generator gives them once.
    func take() -> [Value] {
        if isView { return items }
        if consumed { return [] }
        consumed = true
        let all = items
        items = []
        return all
    }

    /// The items without using them up (for a view's length and repr).
    var peek: [Value] { items }
}

/// The `loop` variable of a for loop (jinja2's LoopContext), its fields computed on access.
struct LoopInfo {
    let items: [Value]
    let index: Int

    func attribute(_ name: String) -> Value? {
        let count = items.count
        switch name {
        case "index": return .int(index + 1)
        case "index0": return .int(index)
        case "revindex": return .int(count - index)
        case "revindex0": return .int(count - index - 1)
        case "first": return .bool(index == 0)
        case "last": return .bool(index == count - 1)
        case "length": return .int(count)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem": return index > 0 ? items[index - 1] : .undefined("there is no previous item")
        case "nextitem": return index + 1 < count ? items[index + 1] : .undefined("there is no next item")
        case "cycle":
            let i = index
            return .builtin(Builtin(name: "cycle") { _, args, _ in
                guard !args.isEmpty else { throw Interpreter.typeError("no items for cycling given") }
                return args[i % args.count]
            })
        case "changed":
            return .builtin(Builtin(name: "changed") { _, _, _ in .bool(true) })
        default: return nil
        }
    }
}

/// A function implemented in Swift (globals, bound methods, `loop.cycle`).
struct Builtin {
    var name: String
    var call: (Interpreter, [Value], [(String, Value)]) throws -> Value
}
