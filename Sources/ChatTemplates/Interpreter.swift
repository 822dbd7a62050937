import Foundation

/// A scope: template top level, a for loop, a macro call.
final class Frame {
    var variables: [String: Value] = [:]
    let parent: Frame?

    init(parent: Frame?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var frame: Frame? = self
        while let f = frame {
            if let v = f.variables[name] { return v }
            frame = f.parent
        }
        return nil
    }
}

/// What a statement list asks of the loop around it.
enum Flow {
    case normal, breakLoop, continueLoop
}

/// Runs a parsed template against a context.
final class Interpreter {
    let now: Date
    private var callDepth = 0
    /// Macro calls nested deeper than this fail (jinja2 would hit Python's recursion limit).
    static let maxCallDepth = 48

    init(now: Date) { self.now = now }

    static func undefinedError(_ message: String, line: Int? = nil) -> ChatTemplateError {
        // The sandbox's refusals (`list.append`, `dict.update`, …) are undefined values that raise SecurityError.
        let kind = message.hasPrefix("access to attribute ") ? "SecurityError" : "UndefinedError"
        return ChatTemplateError(message: message, line: line, kind: kind)
    }

    /// Statements, loop passes and calls left before rendering stops (hostile templates
    /// such as nested `range(100000)` loops must not hold a server thread for ever).
    private var budget = Interpreter.workBudget
    static let workBudget = 2_000_000
    /// Output longer than this stops rendering (a prompt is never this long).
    static let maxOutputScalars = 64 << 20

    private func spend(line: Int? = nil) throws {
        budget -= 1
        if budget < 0 {
            throw ChatTemplateError(message: "template rendering exceeded its work budget (\(Interpreter.workBudget) steps)", line: line, kind: "TemplateRuntimeError")
        }
    }

    static func typeError(_ message: String, line: Int? = nil) -> ChatTemplateError {
        ChatTemplateError(message: message, line: line, kind: "TypeError")
    }

    /// Throws jinja2's UndefinedError if `value` is undefined.
    @discardableResult
    static func defined(_ value: Value, line: Int? = nil) throws -> Value {
        if case .undefined(let message) = value { throw undefinedError(message, line: line) }
        return value
    }

    // MARK: - Statements

    func execute(_ statements: [Stmt], _ frame: Frame, _ out: inout String) throws -> Flow {
        for statement in statements {
            let flow = try execute(statement, frame, &out)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ statement: Stmt, _ frame: Frame, _ out: inout String) throws -> Flow {
        do {
            return try executeUnlined(statement, frame, &out)
        } catch var error as ChatTemplateError {
            // Errors from deep inside an expression learn the line of the statement they stopped.
            if error.line == nil, let line = statement.line { error.line = line }
            throw error
        }
    }

    private func executeUnlined(_ statement: Stmt, _ frame: Frame, _ out: inout String) throws -> Flow {
        try spend()
        if out.utf8.count > Interpreter.maxOutputScalars {
            throw ChatTemplateError(message: "template output exceeded \(Interpreter.maxOutputScalars) bytes", kind: "TemplateRuntimeError")
        }
        switch statement {
        case .text(let text):
            out += text
        case .output(let expr, _):
            out += try evaluate(expr, frame).str
        case .ifChain(let branches, let otherwise):
            for (condition, body) in branches where try evaluate(condition, frame).truthy {
                return try execute(body, frame, &out)
            }
            return try execute(otherwise, frame, &out)
        case .forLoop(let target, let iterable, let condition, let body, let otherwise, let line):
            return try executeFor(target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise, line: line, frame, &out)
        case .set(let target, let expr, let line):
            try assign(target, try evaluate(expr, frame), frame, line: line)
        case .setBlock(let target, let filters, let body, let line):
            var captured = ""
            _ = try execute(body, frame, &captured)
            var value = Value.string(captured)
            for f in filters { value = try applyFilter(f.name, value, f.arguments, frame, line: f.line) }
            try assign(target, value, frame, line: line)
        case .macro(let definition):
            frame.variables[definition.name] = .macro(MacroValue(definition: definition, frame: frame))
        case .callBlock(let caller, let call, let line):
            guard case .call(let callee, let arguments, _) = call else { return .normal }
            let function = try evaluate(callee, frame)
            var (positional, keyword) = try evaluateArguments(arguments, frame)
            keyword.append(("caller", .macro(MacroValue(definition: caller, frame: frame))))
            out += try self.call(function, positional, keyword, line: line).str
        case .filterBlock(let filters, let body):
            var captured = ""
            _ = try execute(body, frame, &captured)
            var value = Value.string(captured)
            for f in filters { value = try applyFilter(f.name, value, f.arguments, frame, line: f.line) }
            out += value.str
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .generation(let body):
            return try execute(body, frame, &out)
        case .with(let assignments, let body):
            let scope = Frame(parent: frame)
            for (target, expr) in assignments { try assign(target, try evaluate(expr, frame), scope, line: 0) }
            return try execute(body, scope, &out)
        }
        return .normal
    }

    private func executeFor(target: AssignTarget, iterable: Expr, condition: Expr?, body: [Stmt], otherwise: [Stmt], line: Int, _ frame: Frame, _ out: inout String) throws -> Flow {
        let source = try evaluate(iterable, frame)
        var items = try iterate(source, line: line)
        if let condition {
            var kept: [Value] = []
            for item in items {
                try spend(line: line)
                let loopFrame = Frame(parent: frame)
                try assign(target, item, loopFrame, line: line)
                if try evaluate(condition, loopFrame).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            return try execute(otherwise, frame, &out)
        }
        for (index, item) in items.enumerated() {
            // Each pass starts from the enclosing scope: a `set` in the body lasts one pass (as in jinja2).
            try spend(line: line)
            let loopFrame = Frame(parent: frame)
            try assign(target, item, loopFrame, line: line)
            loopFrame.variables["loop"] = .loop(LoopInfo(items: items, index: index))
            let flow = try execute(body, loopFrame, &out)
            if flow == .breakLoop { break }
        }
        return .normal
    }

    /// The items a for loop (or a filter) walks: list items, string characters, dict keys.
    func iterate(_ value: Value, line: Int? = nil) throws -> [Value] {
        switch value {
        case .undefined: return []
        case .array(let a), .tuple(let a): return a
        case .string(let s), .markup(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .dict(let d): return d.keyValues
        case .namespace(let n): return n.attributes.keyValues
        case .iterator(let box): return box.take()
        default: throw Interpreter.typeError("'\(value.typeName)' object is not iterable", line: line)
        }
    }

    private func assign(_ target: AssignTarget, _ value: Value, _ frame: Frame, line: Int) throws {
        switch target {
        case .name(let name):
            frame.variables[name] = value
        case .tuple(let targets):
            let items = try iterate(value, line: line)
            guard items.count == targets.count else {
                if items.count > targets.count {
                    throw ChatTemplateError(message: "too many values to unpack (expected \(targets.count))", line: line, kind: "ValueError")
                }
                throw ChatTemplateError(message: "not enough values to unpack (expected \(targets.count), got \(items.count))", line: line, kind: "ValueError")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, frame, line: line) }
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let ns) = frame.lookup(name) ?? .undefined("") else {
                throw ChatTemplateError(message: "cannot assign attribute on non-namespace object", line: line, kind: "TemplateRuntimeError")
            }
            ns.attributes[attribute] = value
        }
    }

    // MARK: - Expressions

    func evaluate(_ expr: Expr, _ frame: Frame) throws -> Value {
        switch expr {
        case .literal(let literal):
            switch literal {
            case .none: return .none
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(s)
            }
        case .name(let name, _):
            if let value = frame.lookup(name) { return value }
            if let global = Globals.lookup(name) { return global }
            return .undefined("'\(name)' is undefined")
        case .list(let items):
            return .array(try items.map { try evaluate($0, frame) })
        case .tuple(let items):
            return .tuple(try items.map { try evaluate($0, frame) })
        case .dict(let pairs):
            var d = OrderedDict()
            for (k, v) in pairs {
                let key = try evaluate(k, frame)
                guard let dictKey = DictKey(key) else { throw Interpreter.typeError("unhashable type: '\(key.typeName)'") }
                d[dictKey] = try evaluate(v, frame)
            }
            return .dict(d)
        case .attribute(let base, let name, let line):
            return try Attributes.get(try evaluate(base, frame), name, line: line)
        case .item(let base, let index, let line):
            return try Attributes.item(try evaluate(base, frame), try evaluate(index, frame), line: line)
        case .slice(let base, let start, let stop, let step, let line):
            let value = try Interpreter.defined(try evaluate(base, frame), line: line)
            return try Attributes.slice(value,
                                        start: try start.map { try evaluate($0, frame) },
                                        stop: try stop.map { try evaluate($0, frame) },
                                        step: try step.map { try evaluate($0, frame) },
                                        line: line)
        case .call(let callee, let arguments, let line):
            let function = try evaluate(callee, frame)
            let (positional, keyword) = try evaluateArguments(arguments, frame)
            return try call(function, positional, keyword, line: line)
        case .filter(let base, let name, let arguments, let line):
            return try applyFilter(name, try evaluate(base, frame), arguments, frame, line: line)
        case .test(let base, let name, let arguments, let line):
            let value = try evaluate(base, frame)
            let (positional, keyword) = try evaluateArguments(arguments, frame)
            return .bool(try TestFunctions.apply(name, value, positional, keyword, self, line: line))
        case .not(let operand):
            return .bool(!(try evaluate(operand, frame).truthy))
        case .negate(let operand, let line):
            let value = try Interpreter.defined(try evaluate(operand, frame), line: line)
            switch value {
            case .int(let i): return .int(0 &- i)
            case .bool(let b): return .int(b ? -1 : 0)
            case .double(let d): return .double(-d)
            default: throw Interpreter.typeError("bad operand type for unary -: '\(value.typeName)'", line: line)
            }
        case .plus(let operand, let line):
            let value = try Interpreter.defined(try evaluate(operand, frame), line: line)
            guard value.numberValue != nil else {
                throw Interpreter.typeError("bad operand type for unary +: '\(value.typeName)'", line: line)
            }
            if case .bool(let b) = value { return .int(b ? 1 : 0) }
            return value
        case .binary(let op, let left, let right, let line):
            return try Operators.binary(op, try evaluate(left, frame), try evaluate(right, frame), line: line)
        case .and(let left, let right):
            let l = try evaluate(left, frame)
            return l.truthy ? try evaluate(right, frame) : l
        case .or(let left, let right):
            let l = try evaluate(left, frame)
            return l.truthy ? l : try evaluate(right, frame)
        case .compare(let first, let rest, let line):
            var left = try evaluate(first, frame)
            for (op, rightExpr) in rest {
                let right = try evaluate(rightExpr, frame)
                if !(try Operators.compare(op, left, right, line: line)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .concat(let parts):
            var s = ""
            for part in parts { s += try evaluate(part, frame).str }
            return .string(s)
        case .conditional(let test, let then, let otherwise):
            if try evaluate(test, frame).truthy { return try evaluate(then, frame) }
            if let otherwise { return try evaluate(otherwise, frame) }
            return .undefined("the inline if-expression on line evaluated to false and no else section was defined.")
        }
    }

    func evaluateArguments(_ arguments: Arguments, _ frame: Frame) throws -> ([Value], [(String, Value)]) {
        let positional = try arguments.positional.map { try evaluate($0, frame) }
        let keyword = try arguments.keyword.map { ($0.0, try evaluate($0.1, frame)) }
        return (positional, keyword)
    }

    private func applyFilter(_ name: String, _ value: Value, _ arguments: Arguments, _ frame: Frame, line: Int) throws -> Value {
        let (positional, keyword) = try evaluateArguments(arguments, frame)
        do {
            return try Filters.apply(name, value, positional, keyword, self)
        } catch var error as ChatTemplateError {
            if error.line == nil { error.line = line }
            throw error
        }
    }

    /// Calls a macro or builtin.
    func call(_ function: Value, _ positional: [Value], _ keyword: [(String, Value)], line: Int?) throws -> Value {
        switch function {
        case .builtin(let builtin):
            do {
                return try builtin.call(self, positional, keyword)
            } catch var error as ChatTemplateError {
                if error.line == nil { error.line = line }
                throw error
            }
        case .macro(let macro):
            return try callMacro(macro, positional, keyword, line: line)
        case .undefined(let message):
            throw Interpreter.undefinedError(message, line: line)
        default:
            throw Interpreter.typeError("'\(function.typeName)' object is not callable", line: line)
        }
    }

    private func callMacro(_ macro: MacroValue, _ positional: [Value], _ keyword: [(String, Value)], line: Int?) throws -> Value {
        callDepth += 1
        defer { callDepth -= 1 }
        guard callDepth <= Interpreter.maxCallDepth else {
            throw ChatTemplateError(message: "maximum recursion depth exceeded (macros nested deeper than \(Interpreter.maxCallDepth))", line: line, kind: "RecursionError")
        }
        let definition = macro.definition
        let frame = Frame(parent: macro.frame)
        var remaining = keyword
        for (index, (name, defaultExpr)) in definition.parameters.enumerated() {
            if index < positional.count {
                frame.variables[name] = positional[index]
            } else if let k = remaining.firstIndex(where: { $0.0 == name }) {
                frame.variables[name] = remaining[k].1
                remaining.remove(at: k)
            } else if let defaultExpr {
                frame.variables[name] = try evaluate(defaultExpr, frame)
            } else {
                frame.variables[name] = .undefined("parameter '\(name)' was not provided")
            }
        }
        if let k = remaining.firstIndex(where: { $0.0 == "caller" }) {
            frame.variables["caller"] = remaining[k].1
            remaining.remove(at: k)
        }
        frame.variables["varargs"] = .tuple(Array(positional.dropFirst(definition.parameters.count)))
        frame.variables["kwargs"] = .dict(OrderedDict(remaining))
        var out = ""
        _ = try execute(definition.body, frame, &out)
        // jinja2 wraps macro output in Markup only when autoescaping, which transformers leaves off.
        return .string(out)
    }
}
