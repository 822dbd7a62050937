/// Builds statements and expressions from tokens, with jinja2's grammar and precedence.
struct Parser {
    private let tokens: [Token]
    private var index = 0
    private var depth = 0
    /// Inside an `if` or a conditional expression jinja2 defers "no such filter/test" to render time.
    private var soft = false
    /// Unknown filters and tests outside soft scopes: jinja2 refuses the template for these.
    private var hardUnknown: [ChatTemplateError] = []
    /// Nesting deeper than this is refused (hostile input must not exhaust the stack).
    static let maxDepth = 64

    init(tokens: [Token]) { self.tokens = tokens }

    // MARK: - Stream

    private var current: Token { tokens[min(index, tokens.count - 1)] }
    private var line: Int { current.line }

    private func peek(_ offset: Int = 1) -> Token { tokens[min(index + offset, tokens.count - 1)] }

    private mutating func advance() -> Token {
        let t = current
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    private func fail(_ message: String, line: Int? = nil) -> ChatTemplateError {
        ChatTemplateError(message: message, line: line ?? self.line, kind: "TemplateSyntaxError")
    }

    private func isName(_ word: String, _ token: Token? = nil) -> Bool {
        if case .name(let n) = (token ?? current).kind { return n == word }
        return false
    }

    private func isOp(_ op: String, _ token: Token? = nil) -> Bool {
        if case .op(let o) = (token ?? current).kind { return o == op }
        return false
    }

    private static func describe(_ kind: Token.Kind) -> String {
        switch kind {
        case .data: return "template data / text"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .name(let n): return n
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .op(let o): return o
        case .eof: return "end of template"
        }
    }

    private mutating func expectOp(_ op: String) throws {
        guard isOp(op) else { throw fail("expected token '\(op)', got '\(Parser.describe(current.kind))'") }
        _ = advance()
    }

    private mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else {
            throw fail("expected token 'name', got '\(Parser.describe(current.kind))'")
        }
        _ = advance()
        return n
    }

    private mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else {
            throw fail("expected token 'end of statement block', got '\(Parser.describe(current.kind))'")
        }
        _ = advance()
    }

    private mutating func enter() throws {
        depth += 1
        if depth > Parser.maxDepth { throw fail("template nests deeper than \(Parser.maxDepth) levels") }
    }

    // MARK: - Statements

    mutating func parseTemplate() throws -> [Stmt] {
        let (body, end) = try subparse(until: [])
        if let end { throw fail("Encountered unknown tag '\(end)'.") }
        if let unknown = hardUnknown.first { throw unknown }
        return body
    }

    /// Parses statements until a block tag whose name is in `until` (left current) or the end.
    private mutating func subparse(until: Set<String>, opener: (String, Int)? = nil) throws -> ([Stmt], String?) {
        try enter()
        defer { depth -= 1 }
        var body: [Stmt] = []
        while true {
            let token = current
            switch token.kind {
            case .data(let text):
                _ = advance()
                body.append(.text(text))
            case .variableBegin:
                _ = advance()
                let expr = try parseTuple()
                guard current.kind == .variableEnd else {
                    throw fail("expected token 'end of print statement', got '\(Parser.describe(current.kind))'")
                }
                _ = advance()
                body.append(.output(expr, line: token.line))
            case .blockBegin:
                _ = advance()
                if case .name(let n) = current.kind, until.contains(n) {
                    return (body, n)
                }
                if case .name(let n) = current.kind, n.hasPrefix("end") {
                    if let opener {
                        throw fail("Encountered unknown tag '\(n)'. Jinja was looking for the following tags: \(Parser.quoteList(until)). The innermost block that needs to be closed is '\(opener.0)'.")
                    }
                    throw fail("Encountered unknown tag '\(n)'.")
                }
                body.append(contentsOf: try parseStatement())
            case .eof:
                if let opener {
                    throw fail("Unexpected end of template. Jinja was looking for the following tags: \(Parser.quoteList(until)). The innermost block that needs to be closed is '\(opener.0)'.", line: token.line)
                }
                return (body, nil)
            default:
                throw fail("unexpected '\(Parser.describe(token.kind))'")
            }
        }
    }

    private static func quoteList(_ names: Set<String>) -> String {
        names.sorted().map { "'\($0)'" }.joined(separator: " or ")
    }

    /// Parses the body of a block up to one of `ends`, consuming that end tag's name (not its `%}`).
    private mutating func block(_ opener: String, line: Int, ends: Set<String>) throws -> ([Stmt], String) {
        let (body, end) = try subparse(until: ends, opener: (opener, line))
        guard let end else { throw fail("Unexpected end of template.", line: line) }
        _ = advance()
        return (body, end)
    }

    private mutating func parseStatement() throws -> [Stmt] {
        let token = current
        guard case .name(let keyword) = token.kind else {
            throw fail("tag name expected")
        }
        let line = token.line
        _ = advance()
        switch keyword {
        case "if":
            let savedSoft = soft
            soft = true
            defer { soft = savedSoft }
            var branches: [(Expr, [Stmt])] = []
            var condition = try parseTuple(withCondExpr: true)
            try expectBlockEnd()
            while true {
                let (body, end) = try block("if", line: line, ends: ["elif", "else", "endif"])
                branches.append((condition, body))
                if end == "elif" {
                    condition = try parseTuple(withCondExpr: true)
                    try expectBlockEnd()
                    continue
                }
                if end == "else" {
                    try expectBlockEnd()
                    let (otherwise, _) = try block("if", line: line, ends: ["endif"])
                    try expectBlockEnd()
                    return [.ifChain(branches, otherwise: otherwise)]
                }
                try expectBlockEnd()
                return [.ifChain(branches, otherwise: [])]
            }
        case "for":
            let target = try parseAssignTarget(allowNamespace: false, extraEnd: ["in"])
            guard isName("in") else { throw fail("expected token 'in', got '\(Parser.describe(current.kind))'") }
            _ = advance()
            let iterable = try parseTuple(withCondExpr: false, extraEnd: ["recursive"])
            var condition: Expr?
            if isName("if") {
                _ = advance()
                condition = try parseExpression()
            }
            if isName("recursive") { throw fail("recursive for loops are not supported by Pagewise's chat templates") }
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, end) = try block("for", line: line, ends: ["endfor", "else"])
            var otherwise: [Stmt] = []
            if end == "else" {
                try expectBlockEnd()
                (otherwise, _) = try block("for", line: line, ends: ["endfor"])
            }
            try expectBlockEnd()
            return [.forLoop(target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise, line: line)]
        case "set":
            let target = try parseAssignTarget(allowNamespace: true, extraEnd: [])
            if isOp("=") {
                _ = advance()
                let value = try parseTuple()
                try expectBlockEnd()
                return [.set(target, value, line: line)]
            }
            var filters: [FilterCall] = []
            while isOp("|") {
                _ = advance()
                filters.append(try parseFilterCall())
            }
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("set", line: line, ends: ["endset"])
            try expectBlockEnd()
            return [.setBlock(target, filters: filters, body: body, line: line)]
        case "macro":
            let name = try expectName()
            let parameters = try parseSignature()
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("macro", line: line, ends: ["endmacro"])
            if case .name = current.kind { _ = advance() }
            try expectBlockEnd()
            return [.macro(MacroDefinition(name: name, parameters: parameters, body: body))]
        case "call":
            var parameters: [(String, Expr?)] = []
            if isOp("(") { parameters = try parseSignature() }
            let call = try parseExpression()
            guard case .call = call else { throw fail("expected call", line: line) }
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("call", line: line, ends: ["endcall"])
            try expectBlockEnd()
            return [.callBlock(caller: MacroDefinition(name: "caller", parameters: parameters, body: body), call: call, line: line)]
        case "filter":
            var filters = [try parseFilterCall()]
            while isOp("|") {
                _ = advance()
                filters.append(try parseFilterCall())
            }
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("filter", line: line, ends: ["endfilter"])
            try expectBlockEnd()
            return [.filterBlock(filters, body: body)]
        case "generation":
            try expectBlockEnd()
            let savedSoft = soft
            soft = false
            defer { soft = savedSoft }
            let (body, _) = try block("generation", line: line, ends: ["endgeneration"])
            try expectBlockEnd()
            return [.generation(body)]
        case "break", "continue":
            try expectBlockEnd()
            return [keyword == "break" ? .breakLoop(line: line) : .continueLoop(line: line)]
        case "include", "import", "from", "extends", "block", "with", "autoescape", "trans", "pluralize":
            throw fail("'\(keyword)' tags are not supported by Pagewise's chat templates", line: line)
        default:
            throw fail("Encountered unknown tag '\(keyword)'.", line: line)
        }
    }

    private mutating func parseSignature() throws -> [(String, Expr?)] {
        try expectOp("(")
        var parameters: [(String, Expr?)] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            if isOp("=") {
                _ = advance()
                parameters.append((name, try parseExpression()))
            } else {
                parameters.append((name, nil))
            }
        }
        _ = advance()
        return parameters
    }

    private mutating func parseAssignTarget(allowNamespace: Bool, extraEnd: Set<String>) throws -> AssignTarget {
        var targets: [AssignTarget] = []
        var sawComma = false
        while true {
            if isOp("(") {
                _ = advance()
                targets.append(try parseAssignTarget(allowNamespace: false, extraEnd: []))
                try expectOp(")")
            } else {
                let name = try expectName()
                if allowNamespace && isOp(".") {
                    _ = advance()
                    targets.append(.namespaceAttribute(name, try expectName()))
                } else {
                    if ["true", "false", "none", "True", "False", "None"].contains(name) {
                        throw fail("Can't assign to \(name)")
                    }
                    targets.append(.name(name))
                }
            }
            guard isOp(",") else { break }
            sawComma = true
            _ = advance()
            if case .name(let n) = current.kind, extraEnd.contains(n) { break }
            if current.kind == .blockEnd || isOp("=") || isOp(")") { break }
        }
        if !sawComma, let only = targets.first { return only }
        return .tuple(targets)
    }

    // MARK: - Expressions

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .eof: return true
        case .op(let o): return o == ")"
        case .name(let n): return extraEnd.contains(n)
        default: return false
        }
    }

    mutating func parseTuple(withCondExpr: Bool = true, extraEnd: Set<String> = [], explicitParentheses: Bool = false) throws -> Expr {
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            items.append(withCondExpr ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses {
                throw fail("Expected an expression, got '\(Parser.describe(current.kind))'")
            }
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws -> Expr {
        try enter()
        defer { depth -= 1 }
        let mark = hardUnknown.count
        var expr = try parseOr()
        while isName("if") {
            _ = advance()
            hardUnknown.removeSubrange(mark...)
            let savedSoft = soft
            soft = true
            defer { soft = savedSoft }
            let test = try parseOr()
            var otherwise: Expr?
            if isName("else") {
                _ = advance()
                otherwise = try parseExpression()
            }
            expr = .conditional(test: test, then: expr, otherwise: otherwise)
        }
        return expr
    }

    private mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while isName("or") {
            _ = advance()
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while isName("and") {
            _ = advance()
            left = .and(left, try parseNot())
        }
        return left
    }

    private mutating func parseNot() throws -> Expr {
        if isName("not") {
            _ = advance()
            try enter()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        let line = self.line
        let expr = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if case .op(let o) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                _ = advance()
                ops.append((o, try parseMath1()))
            } else if isName("in") {
                _ = advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not") && isName("in", peek()) {
                _ = advance()
                _ = advance()
                ops.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? expr : .compare(expr, ops, line: line)
    }

    private mutating func parseMath1() throws -> Expr {
        var left = try parseConcat()
        while case .op(let o) = current.kind, o == "+" || o == "-" {
            let line = advance().line
            left = .binary(o, left, try parseConcat(), line: line)
        }
        return left
    }

    private mutating func parseConcat() throws -> Expr {
        var items = [try parseMath2()]
        while isOp("~") {
            _ = advance()
            items.append(try parseMath2())
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    private mutating func parseMath2() throws -> Expr {
        var left = try parsePow()
        while case .op(let o) = current.kind, ["*", "/", "//", "%"].contains(o) {
            let line = advance().line
            left = .binary(o, left, try parsePow(), line: line)
        }
        return left
    }

    private mutating func parsePow() throws -> Expr {
        var left = try parseUnary()
        while isOp("**") {
            let line = advance().line
            left = .binary("**", left, try parseUnary(), line: line)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        try enter()
        defer { depth -= 1 }
        var node: Expr
        if isOp("-") {
            let line = advance().line
            node = .negate(try parseUnary(withFilter: false), line: line)
        } else if isOp("+") {
            let line = advance().line
            node = .plus(try parseUnary(withFilter: false), line: line)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    private mutating func parsePrimary() throws -> Expr {
        let token = current
        switch token.kind {
        case .name(let n):
            _ = advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n, line: token.line)
            }
        case .string(var s):
            _ = advance()
            while case .string(let more) = current.kind {
                s += more
                _ = advance()
            }
            return .literal(.string(s))
        case .integer(let i):
            _ = advance()
            return .literal(.int(i))
        case .float(let d):
            _ = advance()
            return .literal(.double(d))
        case .op("("):
            _ = advance()
            let expr = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return expr
        case .op("["):
            _ = advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            _ = advance()
            return .list(items)
        case .op("{"):
            _ = advance()
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            _ = advance()
            return .dict(pairs)
        default:
            throw fail("unexpected '\(Parser.describe(token.kind))'")
        }
    }

    private mutating func parsePostfix(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp(".") {
                let line = advance().line
                switch current.kind {
                case .name(let n):
                    _ = advance()
                    node = .attribute(node, n, line: line)
                case .integer(let i):
                    _ = advance()
                    node = .item(node, .literal(.int(i)), line: line)
                default:
                    throw fail("expected name or number")
                }
            } else if isOp("[") {
                let line = advance().line
                node = try parseSubscript(node, line: line)
            } else if isOp("(") {
                let line = current.line
                node = .call(node, try parseCallArguments(), line: line)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ node: Expr, line: Int) throws -> Expr {
        var parts: [Expr?] = []
        var isSlice = false
        var current: Expr?
        while !isOp("]") {
            if isOp(":") {
                _ = advance()
                parts.append(current)
                current = nil
                isSlice = true
                continue
            }
            if isOp(",") { throw fail("tuple subscripts are not supported") }
            current = try parseExpression()
        }
        _ = advance()
        if !isSlice {
            guard let index = current else { throw fail("expected a subscript") }
            return .item(node, index, line: line)
        }
        parts.append(current)
        guard parts.count <= 3 else { throw fail("invalid slice") }
        func part(_ i: Int) -> Expr? { i < parts.count ? parts[i] : nil }
        return .slice(node, start: part(0), stop: part(1), step: part(2), line: line)
    }

    private mutating func parseCallArguments() throws -> Arguments {
        try expectOp("(")
        var arguments = Arguments()
        var first = true
        while !isOp(")") {
            if !first { try expectOp(",") }
            first = false
            if isOp(")") { break }
            if isOp("*") || isOp("**") { throw fail("*args and **kwargs in calls are not supported") }
            if case .name(let n) = current.kind, isOp("=", peek()) {
                _ = advance()
                _ = advance()
                arguments.keyword.append((n, try parseExpression()))
            } else {
                if !arguments.keyword.isEmpty { throw fail("positional argument follows keyword argument") }
                arguments.positional.append(try parseExpression())
            }
        }
        _ = advance()
        return arguments
    }

    private mutating func parseFilterCall() throws -> FilterCall {
        let line = current.line
        var name = try expectName()
        while isOp(".") {
            _ = advance()
            name += "." + (try expectName())
        }
        if !Filters.isKnown(name) && !soft {
            hardUnknown.append(ChatTemplateError(message: "No filter named '\(name)'.", line: line, kind: "TemplateAssertionError"))
        }
        let arguments = isOp("(") ? try parseCallArguments() : Arguments()
        return FilterCall(name: name, arguments: arguments, line: line)
    }

    private mutating func parseFilterExpr(_ start: Expr) throws -> Expr {
        var node = start
        while true {
            if isOp("|") {
                _ = advance()
                let f = try parseFilterCall()
                node = .filter(node, name: f.name, f.arguments, line: f.line)
            } else if isName("is") {
                let line = advance().line
                var negated = false
                if isName("not") {
                    _ = advance()
                    negated = true
                }
                var name = try expectName()
                while isOp(".") {
                    _ = advance()
                    name += "." + (try expectName())
                }
                if !TestFunctions.isKnown(name) && !soft {
                    hardUnknown.append(ChatTemplateError(message: "No test named '\(name)'.", line: line, kind: "TemplateAssertionError"))
                }
                var arguments = Arguments()
                switch current.kind {
                case .op("("):
                    arguments = try parseCallArguments()
                case .name(let n) where !["else", "or", "and"].contains(n):
                    if n == "is" { throw fail("You cannot chain multiple tests with is") }
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                case .string, .integer, .float, .op("["), .op("{"):
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                default: break
                }
                node = .test(node, name: name, arguments, line: line)
                if negated { node = .not(node) }
            } else if isOp("(") {
                let line = current.line
                node = .call(node, try parseCallArguments(), line: line)
            } else {
                return node
            }
        }
    }
}
