/// A constant written in the template.
enum Literal: Sendable {
    case none, bool(Bool), int(Int), double(Double), string(String)
}

/// One call's arguments as written: positional, then keyword.
struct Arguments: Sendable {
    var positional: [Expr] = []
    var keyword: [(String, Expr)] = []
}

/// An expression node.
indirect enum Expr: Sendable {
    case literal(Literal)
    case name(String, line: Int)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case attribute(Expr, String, line: Int)
    case item(Expr, Expr, line: Int)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?, line: Int)
    case call(Expr, Arguments, line: Int)
    case filter(Expr, name: String, Arguments, line: Int)
    case test(Expr, name: String, Arguments, line: Int)
    case not(Expr)
    case negate(Expr, line: Int)
    case plus(Expr, line: Int)
    case binary(String, Expr, Expr, line: Int)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case compare(Expr, [(String, Expr)], line: Int)
    case concat([Expr])
    case conditional(test: Expr, then: Expr, otherwise: Expr?)
}

/// Where `set` and `for` put values.
indirect enum AssignTarget: Sendable {
    case name(String)
    case tuple([AssignTarget])
    case namespaceAttribute(String, String)
}

/// A filter application written in a tag (`{% filter x %}`, `{% set a | x %}`).
struct FilterCall: Sendable {
    var name: String
    var arguments: Arguments
    var line: Int
}

/// A macro's definition (also the `caller` of a call block).
struct MacroDefinition: Sendable {
    var name: String
    var parameters: [(String, Expr?)]
    var body: [Stmt]
}

/// A statement node.
indirect enum Stmt: Sendable {
    case text(String)
    case output(Expr, line: Int)
    case ifChain([(Expr, [Stmt])], otherwise: [Stmt])
    case forLoop(target: AssignTarget, iterable: Expr, condition: Expr?, body: [Stmt], otherwise: [Stmt], line: Int)
    case set(AssignTarget, Expr, line: Int)
    case setBlock(AssignTarget, filters: [FilterCall], body: [Stmt], line: Int)
    case macro(MacroDefinition)
    case callBlock(caller: MacroDefinition, call: Expr, line: Int)
    case filterBlock([FilterCall], body: [Stmt])
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    case generation([Stmt])
    case with([(AssignTarget, Expr)], body: [Stmt])
}

extension Stmt {
    /// The line of a statement that has one.
    var line: Int? {
        switch self {
        case .output(_, let line), .forLoop(_, _, _, _, _, let line), .set(_, _, let line), .setBlock(_, _, _, let line),
             .callBlock(_, _, let line), .breakLoop(let line), .continueLoop(let line):
            return line
        default:
            return nil
        }
    }
}
